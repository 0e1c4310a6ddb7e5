// Queries shared by several pages (TanStack Query keys in one place).
import { useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "./client";

export const keys = {
  me: ["me"] as const,
  meta: ["meta"] as const,
  setup: ["setup"] as const,
  connections: ["connections"] as const,
  settings: ["settings"] as const,
  mappings: ["mappings"] as const,
  users: ["users"] as const,
  plan: ["plan"] as const,
  syncStatus: ["sync-status"] as const,
};

export function useMe(enabled = true) {
  return useQuery({
    queryKey: keys.me,
    queryFn: async () => unwrap(await api.GET("/v1/me")),
    enabled,
    retry: false,
  });
}

export function useMeta() {
  return useQuery({
    queryKey: keys.meta,
    queryFn: async () => unwrap(await api.GET("/v1/meta")),
    staleTime: Infinity,
  });
}

export function useConnections() {
  return useQuery({
    queryKey: keys.connections,
    queryFn: async () => unwrap(await api.GET("/v1/connections")).items,
    staleTime: 0, // a connection's state changes behind the app's back (expired consent, a worker's error)
  });
}

export function useSettings() {
  return useQuery({
    queryKey: keys.settings,
    queryFn: async () => unwrap(await api.GET("/v1/settings")),
  });
}

export function useMappings() {
  return useQuery({
    queryKey: keys.mappings,
    queryFn: async () => unwrap(await api.GET("/v1/mappings")).items,
  });
}

/** The first active Xero connection with an organisation chosen, and the active ONTRAPORT one. */
export function activeConnections(connections: Schemas["ConnectionOut"][] | undefined) {
  const list = connections ?? [];
  const ontraport = list.find((c) => c.kind === "ontraport" && c.status === "active");
  const xero =
    list.find((c) => c.kind === "xero" && c.id === ontraport?.xero_connection_id && c.xero_tenant_id) ??
    list.find((c) => c.kind === "xero" && c.status === "active" && c.xero_tenant_id);
  const onport = list.find((c) => c.kind === "onport" && c.status === "active");
  return { xero, ontraport, onport };
}

/** Where a Xero document opens: the sandbox's own view when running against it, else the API's link. */
export function xeroHref(
  link: Schemas["XeroLink"] | null | undefined,
  meta: Schemas["Meta"] | undefined,
): string | null {
  if (!link?.xero_id) return null;
  if (meta?.xero_document_url) return meta.xero_document_url.replace("{id}", link.xero_id);
  return link.url ?? null;
}

/** A JSON merge patch of the options: only the fields sent change (PATCH /v1/settings). */
export interface SettingsPatch {
  ontraport?: Partial<Schemas["OntraportOptions"]>;
  onport?: Partial<Schemas["OnportOptions"]>;
}

export async function patchSettings(patch: SettingsPatch) {
  // The generated body type is the whole AccountOptions; a merge patch sends only what changes.
  return unwrap(await api.PATCH("/v1/settings", { body: patch as Schemas["AccountOptions"] }));
}
