// Live reference data for the setup forms: Xero's accounts, tax rates, themes, currencies and
// ONTRAPORT's catalogue, from the API's caches, each with a refresh that re-reads the partner.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap } from "../api/client";
import type { Option } from "../components/ui";

type XeroKind =
  | "accounts"
  | "tax-rates"
  | "branding-themes"
  | "currencies"
  | "tracking-categories"
  | "organisation"
  | "contacts";
type OntraportKind = "products" | "taxes" | "coupons" | "shipping-methods" | "gateways";
export type Item = Record<string, unknown>;

export function useXero(connectionId: string | undefined, kind: XeroKind) {
  return useReference(["xero", connectionId, kind], connectionId, async (refresh) =>
    unwrap(
      await api.GET("/v1/xero/{connection_id}/{kind}", {
        params: { path: { connection_id: connectionId!, kind }, query: { refresh } },
      }),
    ),
  );
}

export function useOntraport(connectionId: string | undefined, kind: OntraportKind) {
  return useReference(["ontraport", connectionId, kind], connectionId, async (refresh) =>
    unwrap(
      await api.GET("/v1/ontraport/{connection_id}/{kind}", {
        params: { path: { connection_id: connectionId!, kind }, query: { refresh } },
      }),
    ),
  );
}

function useReference(
  key: (string | undefined)[],
  connectionId: string | undefined,
  read: (refresh: boolean) => Promise<{ items: Item[]; fetched_at: string }>,
) {
  const queryClient = useQueryClient();
  const [refreshing, setRefreshing] = useState(false);
  const query = useQuery({ queryKey: key, queryFn: () => read(false), enabled: Boolean(connectionId) });
  const refresh = async () => {
    setRefreshing(true);
    try {
      queryClient.setQueryData(key, await read(true));
      await queryClient.invalidateQueries({ queryKey: ["setup"] });
    } finally {
      setRefreshing(false);
    }
  };
  return { ...query, items: query.data?.items ?? [], refresh, refreshing };
}

const text = (value: unknown): string => (value === null || value === undefined ? "" : String(value));

export function accountOptions(items: Item[], want: "sales" | "payments" | "any" = "any"): Option[] {
  return items
    .filter((a) => text(a.Status || "ACTIVE") === "ACTIVE" && text(a.Code))
    .filter((a) => {
      if (want === "sales") return text(a.Class) === "REVENUE";
      // Xero accepts payments only to bank accounts and accounts with payments enabled.
      if (want === "payments") return a.EnablePaymentsToAccount === true || text(a.Type) === "BANK";
      return true;
    })
    .map((a) => ({ value: text(a.Code), label: `${text(a.Code)} – ${text(a.Name)}` }));
}

export function taxOptions(items: Item[]): Option[] {
  return items
    .filter((t) => text(t.Status || "ACTIVE") === "ACTIVE")
    .map((t) => ({
      value: text(t.TaxType),
      label: `${text(t.Name || t.TaxType)} (${text(t.EffectiveRate)}%)`,
    }));
}

export function themeOptions(items: Item[]): Option[] {
  return items.map((t) => ({ value: text(t.BrandingThemeID), label: text(t.Name || t.BrandingThemeID) }));
}

export function currencyOptions(items: Item[]): Option[] {
  return items.map((c) => ({ value: text(c.Code), label: `${text(c.Code)} ${text(c.Description)}`.trim() }));
}

export function catalogueNames(items: Item[]): Record<string, string> {
  return Object.fromEntries(
    items.map((item) => [text(item.id), text(item.name || item.coupon_code || item.id)] as [string, string]),
  );
}
