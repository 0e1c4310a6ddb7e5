import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import {
  activeConnections,
  keys,
  patchSettings,
  useConnections,
  useMappings,
  useMe,
  useMeta,
  useSettings,
} from "../api/queries";
import {
  Checkbox,
  ErrorNotice,
  Loading,
  ProgressBar,
  RefreshButton,
  SelectField,
  StatusNotice,
  TextField,
} from "../components/ui";
import {
  accountOptions,
  catalogueNames,
  currencyOptions,
  taxOptions,
  themeOptions,
  useOntraport,
  useXero,
  type Item,
} from "../setup/reference";
import { SummaryOptions } from "../setup/SummaryOptions";
import {
  addCondition,
  describeRule,
  emptyRule,
  FILTER_FIELDS,
  removeCondition,
  renderTemplate,
  toApi,
  updateCondition,
  validateRule,
  type FilterField,
  type RuleDraft,
} from "../setup/rules";
import {
  describeMissing,
  findStep,
  isStepKey,
  nextStep,
  previousStep,
  resumeStep,
  stepState,
  STEPS,
  type StepKey,
} from "../setup/steps";
import { storedTracking, trackingCategories, TrackingPicker, type TrackingChoice } from "../setup/tracking";
import { startXeroConsent } from "./Connections";
import { AuditTrail } from "../components/AuditTrail";

type Mapping = Schemas["MappingIn"];

function useInvalidateSetup() {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: keys.setup }),
      queryClient.invalidateQueries({ queryKey: keys.connections }),
      queryClient.invalidateQueries({ queryKey: keys.mappings }),
      queryClient.invalidateQueries({ queryKey: keys.settings }),
    ]);
}

function useSaveMappings() {
  const invalidate = useInvalidateSetup();
  return useMutation({
    mutationFn: async (items: Mapping[]) => unwrap(await api.PUT("/v1/mappings", { body: items })),
    onSuccess: () => void invalidate(),
  });
}

function usePatchSettings() {
  const invalidate = useInvalidateSetup();
  return useMutation({
    mutationFn: patchSettings,
    onSuccess: () => void invalidate(),
  });
}

const text = (value: unknown): string => (value === null || value === undefined ? "" : String(value));

// -- 1. Xero --------------------------------------------------------------------------------------

function ConnectXero({ owner }: { owner: boolean }) {
  const connections = useConnections();
  const [params, setParams] = useSearchParams();
  const invalidate = useInvalidateSetup();
  const list = connections.data ?? [];
  const pending =
    list.find((c) => c.id === params.get("connection_id") && c.kind === "xero") ??
    list.find((c) => c.kind === "xero" && c.status === "pending");
  const chosen = list.find((c) => c.kind === "xero" && c.status === "active" && c.xero_tenant_id);
  const organisations = useQuery({
    queryKey: ["organisations", pending?.id],
    queryFn: async () =>
      unwrap(
        await api.GET("/v1/connections/{connection_id}/organisations", {
          params: { path: { connection_id: pending!.id } },
        }),
      ).items,
    enabled: Boolean(pending && !pending.xero_tenant_id),
  });
  const [tenant, setTenant] = useState("");
  const consent = useMutation({ mutationFn: startXeroConsent });
  const choose = useMutation({
    mutationFn: async () => {
      const chosenConnection = unwrap(
        await api.PUT("/v1/connections/{connection_id}/organisation", {
          params: { path: { connection_id: pending!.id } },
          body: { tenant_id: tenant },
        }),
      );
      // A reconnect: sources that posted to this organisation through a dead connection move over.
      const dead = new Set(
        list
          .filter((c) => c.kind === "xero" && c.status !== "active" && c.xero_tenant_id === tenant)
          .map((c) => c.id),
      );
      for (const source of list.filter((c) => c.xero_connection_id && dead.has(c.xero_connection_id))) {
        unwrap(
          await api.PUT("/v1/connections/{connection_id}/xero-connection", {
            params: { path: { connection_id: source.id } },
            body: { xero_connection_id: chosenConnection.id },
          }),
        );
      }
      return chosenConnection;
    },
    onSuccess: () => {
      setParams({});
      void invalidate();
    },
  });
  if (pending && !pending.xero_tenant_id) {
    return (
      <form
        onSubmit={(e) => {
          e.preventDefault();
          choose.mutate();
        }}
        aria-label="Choose the Xero organisation"
      >
        <fieldset>
          <legend>Which Xero organisation should ledgerbridge write to?</legend>
          {organisations.isPending ? <Loading what="organisations" /> : null}
          {(organisations.data ?? []).map((org) => (
            <div className="radio" key={org.tenant_id}>
              <input
                type="radio"
                id={`org-${org.tenant_id}`}
                name="organisation"
                value={org.tenant_id}
                checked={tenant === org.tenant_id}
                onChange={() => setTenant(org.tenant_id)}
              />
              <label htmlFor={`org-${org.tenant_id}`}>
                {org.name} <span className="muted">({org.type})</span>
              </label>
            </div>
          ))}
        </fieldset>
        <ErrorNotice error={organisations.error ?? choose.error} />
        <button type="submit" disabled={!tenant || choose.isPending || !owner}>
          Use this organisation
        </button>
      </form>
    );
  }
  return (
    <>
      {chosen ? <StatusNotice>Connected to Xero organisation {chosen.name}.</StatusNotice> : null}
      <p>You will be sent to Xero to give consent, then come back here to choose the organisation.</p>
      <button type="button" onClick={() => consent.mutate()} disabled={consent.isPending || !owner}>
        {chosen ? "Connect another Xero organisation" : "Connect Xero"}
      </button>
      <ErrorNotice error={consent.error} />
    </>
  );
}

// -- 2. ONTRAPORT ---------------------------------------------------------------------------------

function ConnectOntraport({ owner }: { owner: boolean }) {
  const meta = useMeta();
  const connections = useConnections();
  const invalidate = useInvalidateSetup();
  const { xero, ontraport } = activeConnections(connections.data);
  const [appId, setAppId] = useState("");
  const [apiKey, setApiKey] = useState("");
  const connect = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/v1/connections/ontraport", {
          body: { app_id: appId.trim(), api_key: apiKey.trim(), xero_connection_id: xero?.id ?? null },
        }),
      ),
    onSuccess: () => void invalidate(),
  });
  const link = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PUT("/v1/connections/{connection_id}/xero-connection", {
          params: { path: { connection_id: ontraport!.id } },
          body: { xero_connection_id: xero!.id },
        }),
      ),
    onSuccess: () => void invalidate(),
  });
  if (ontraport) {
    return (
      <>
        <StatusNotice>ONTRAPORT account {ontraport.name} is connected.</StatusNotice>
        {!ontraport.xero_connection_id && xero ? (
          <button type="button" onClick={() => link.mutate()} disabled={!owner}>
            Send its sales to {xero.name}
          </button>
        ) : null}
        <ErrorNotice error={link.error} />
      </>
    );
  }
  const sandbox = meta.data?.sandbox;
  return (
    <form
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        connect.mutate();
      }}
      aria-label="Connect ONTRAPORT"
    >
      <p>
        In ONTRAPORT: <em>Administration → Integrations → ONTRAPORT API Instructions and Key Manager</em>,
        then “New API key”. Copy the App ID and the API key here; they are checked with ONTRAPORT at once and
        stored encrypted.
      </p>
      <TextField
        label="App ID"
        value={appId}
        onChange={setAppId}
        hint={sandbox ? `Sandbox: ${sandbox.ontraport_app_id}` : undefined}
        error={connect.error ? "ONTRAPORT did not accept these credentials (see below)" : null}
        required
      />
      <TextField
        label="API key"
        type="password"
        value={apiKey}
        onChange={setApiKey}
        hint={sandbox ? `Sandbox: ${sandbox.ontraport_api_key}` : undefined}
        required
      />
      <ErrorNotice error={connect.error} />
      <button type="submit" disabled={connect.isPending || !owner}>
        {connect.isPending ? "Checking…" : "Check and connect"}
      </button>
    </form>
  );
}

// -- 3. Gateways ----------------------------------------------------------------------------------

interface GatewayDraft {
  currency_code: string;
  branding_theme_id: string;
  payment_account_code: string;
  tracking: TrackingChoice[];
}

function Gateways({ xeroId, ontraportId, owner }: { xeroId: string; ontraportId: string; owner: boolean }) {
  const gateways = useOntraport(ontraportId, "gateways");
  const currencies = useXero(xeroId, "currencies");
  const themes = useXero(xeroId, "branding-themes");
  const accounts = useXero(xeroId, "accounts");
  const tracking = useXero(xeroId, "tracking-categories");
  const categories = trackingCategories(tracking.items);
  const mappings = useMappings();
  const save = useSaveMappings();
  const [drafts, setDrafts] = useState<Record<string, GatewayDraft>>({});
  const stored = (id: string): GatewayDraft => {
    const found = mappings.data?.find((m) => m.kind === "gateway" && m.source_id === id);
    const target = (found?.target ?? {}) as Record<string, unknown>;
    return {
      currency_code: text(target.currency_code),
      branding_theme_id: text(target.branding_theme_id),
      payment_account_code: text(target.payment_account_code),
      tracking: storedTracking(target),
    };
  };
  const value = (id: string) => drafts[id] ?? stored(id);
  const change = (id: string, field: Exclude<keyof GatewayDraft, "tracking">, v: string) =>
    setDrafts((d) => ({ ...d, [id]: { ...value(id), [field]: v } }));
  const track = (id: string, v: TrackingChoice[]) =>
    setDrafts((d) => ({ ...d, [id]: { ...value(id), tracking: v } }));
  const complete = gateways.items.filter((g) => {
    const v = value(text(g.id));
    return v.currency_code && v.branding_theme_id && v.payment_account_code;
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate(
      complete.map((g) => {
        const { tracking: chosen, ...target } = value(text(g.id));
        return {
          kind: "gateway",
          source_id: text(g.id),
          target: chosen.length ? { ...target, tracking: chosen } : target,
        };
      }),
    );
  };
  return (
    <form onSubmit={submit} aria-label="Map payment gateways">
      <div className="row">
        <RefreshButton
          onClick={() => void gateways.refresh()}
          busy={gateways.refreshing}
          what="ONTRAPORT gateways"
        />
        <RefreshButton
          onClick={() => void accounts.refresh()}
          busy={accounts.refreshing}
          what="Xero accounts"
        />
        <RefreshButton
          onClick={() => void tracking.refresh()}
          busy={tracking.refreshing}
          what="Xero tracking categories"
        />
      </div>
      {gateways.isPending ? <Loading what="gateways" /> : null}
      <ErrorNotice
        error={gateways.error ?? currencies.error ?? themes.error ?? accounts.error ?? tracking.error}
      />
      {gateways.items.map((gateway) => {
        const id = text(gateway.id);
        const name = text(gateway.name) || `Gateway ${id}`;
        return (
          <fieldset key={id} className="mapping-row">
            <legend>
              {name} <span className="muted">(ONTRAPORT gateway {id})</span>
            </legend>
            <SelectField
              label={`${name}: currency`}
              value={value(id).currency_code}
              onChange={(v) => change(id, "currency_code", v)}
              options={currencyOptions(currencies.items)}
            />
            <SelectField
              label={`${name}: branding theme`}
              value={value(id).branding_theme_id}
              onChange={(v) => change(id, "branding_theme_id", v)}
              options={themeOptions(themes.items)}
            />
            <SelectField
              label={`${name}: payment account`}
              value={value(id).payment_account_code}
              onChange={(v) => change(id, "payment_account_code", v)}
              options={accountOptions(accounts.items, "payments")}
              hint="Only accounts Xero accepts payments to (bank accounts, or with payments enabled)."
            />
            <TrackingPicker
              label={`${name}: tracking`}
              categories={categories}
              value={value(id).tracking}
              onChange={(v) => track(id, v)}
              idPrefix={`gateway-${id}-tracking`}
            />
          </fieldset>
        );
      })}
      <ErrorNotice error={save.error} />
      {save.isSuccess ? <StatusNotice>Saved {save.data.items.length} gateway mappings.</StatusNotice> : null}
      <button type="submit" disabled={!owner || save.isPending || complete.length === 0}>
        Save gateways
      </button>
    </form>
  );
}

// -- 4–7. Catalogue mappings with a default ------------------------------------------------------------

interface CatalogueStepProps {
  xeroId: string;
  ontraportId: string;
  owner: boolean;
  catalogue: "products" | "taxes" | "coupons" | "shipping-methods";
  mappingKind: "product" | "tax" | "coupon" | "shipping";
  target: "account_code" | "tax_type";
  what: string;
  defaultSetting?: "default_sales_account" | "default_coupon_account" | "default_shipping_account";
  defaultLabel?: string;
  itemCodes?: boolean;
  tracking?: boolean;
}

function CatalogueStep(props: CatalogueStepProps) {
  const { xeroId, ontraportId, owner, catalogue, mappingKind, target, what } = props;
  const items = useOntraport(ontraportId, catalogue);
  const accounts = useXero(xeroId, "accounts");
  const taxRates = useXero(xeroId, "tax-rates");
  const trackingItems = useXero(props.tracking ? xeroId : undefined, "tracking-categories");
  const categories = trackingCategories(trackingItems.items);
  const mappings = useMappings();
  const settings = useSettings();
  const save = useSaveMappings();
  const patch = usePatchSettings();
  const [drafts, setDrafts] = useState<
    Record<string, { value: string; item: string; tracking: TrackingChoice[] }>
  >({});
  const [filter, setFilter] = useState("");
  const [defaultDraft, setDefaultDraft] = useState<string | null>(null);
  const options =
    target === "tax_type"
      ? taxOptions(taxRates.items)
      : accountOptions(accounts.items, mappingKind === "product" ? "sales" : "any");
  const stored = (id: string) => {
    const found = mappings.data?.find((m) => m.kind === mappingKind && m.source_id === id);
    const t = (found?.target ?? {}) as Record<string, unknown>;
    return { value: text(t[target]), item: text(t.item_code), tracking: storedTracking(t) };
  };
  const value = (id: string) => drafts[id] ?? stored(id);
  const needle = filter.trim().toLowerCase();
  const shown = items.items.filter(
    (item: Item) =>
      !needle ||
      `${text(item.id)} ${text(item.name)} ${text(item.coupon_code)}`.toLowerCase().includes(needle),
  );
  const storedDefault = props.defaultSetting ? text(settings.data?.ontraport?.[props.defaultSetting]) : "";
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (props.defaultSetting && defaultDraft !== null && defaultDraft !== storedDefault) {
      patch.mutate({ ontraport: { [props.defaultSetting]: defaultDraft || null } });
    }
    const changed = Object.entries(drafts).filter(([, v]) => v.value);
    if (changed.length) {
      save.mutate(
        changed.map(([id, v]) => ({
          kind: mappingKind,
          source_id: id,
          target:
            target === "tax_type"
              ? { tax_type: v.value }
              : {
                  account_code: v.value,
                  ...(props.itemCodes && v.item ? { item_code: v.item } : {}),
                  ...(props.tracking && v.tracking.length ? { tracking: v.tracking } : {}),
                },
        })),
      );
    }
  };
  return (
    <form onSubmit={submit} aria-label={`Map ${what}`}>
      <div className="row">
        <RefreshButton
          onClick={() => void items.refresh()}
          busy={items.refreshing}
          what={`ONTRAPORT ${what}`}
        />
        <RefreshButton
          onClick={() => void (target === "tax_type" ? taxRates.refresh() : accounts.refresh())}
          busy={accounts.refreshing || taxRates.refreshing}
          what={target === "tax_type" ? "Xero tax rates" : "Xero accounts"}
        />
      </div>
      {props.defaultSetting ? (
        <SelectField
          label={props.defaultLabel ?? "Default account"}
          value={defaultDraft ?? storedDefault}
          onChange={setDefaultDraft}
          options={accountOptions(accounts.items, mappingKind === "product" ? "sales" : "any")}
          placeholder="No default"
          hint={`Used for every ${what.replace(/s$/, "")} you do not map below.`}
        />
      ) : null}
      {items.items.length > 8 ? (
        <div className="field">
          <label htmlFor={`filter-${catalogue}`}>Search {what}</label>
          <input
            id={`filter-${catalogue}`}
            type="search"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
          />
        </div>
      ) : null}
      {items.isPending ? <Loading what={what} /> : null}
      <ErrorNotice error={items.error ?? accounts.error ?? taxRates.error} />
      <table>
        <caption className="visually-hidden">ONTRAPORT {what}</caption>
        <thead>
          <tr>
            <th scope="col">ONTRAPORT</th>
            <th scope="col">{target === "tax_type" ? "Xero tax code" : "Xero account"}</th>
            {props.itemCodes ? <th scope="col">Xero item code</th> : null}
            {props.tracking && categories.length ? <th scope="col">Xero tracking</th> : null}
          </tr>
        </thead>
        <tbody>
          {shown.map((item: Item) => {
            const id = text(item.id);
            const name = text(item.name || item.coupon_code) || id;
            const current = value(id);
            return (
              <tr key={id}>
                <td>
                  {name} <span className="muted">({id})</span>
                </td>
                <td>
                  <label className="visually-hidden" htmlFor={`map-${catalogue}-${id}`}>
                    {name}: {target === "tax_type" ? "Xero tax code" : "Xero account"}
                  </label>
                  <select
                    id={`map-${catalogue}-${id}`}
                    value={current.value}
                    onChange={(e) =>
                      setDrafts((d) => ({ ...d, [id]: { ...current, value: e.target.value } }))
                    }
                  >
                    <option value="">{props.defaultSetting ? "Use the default" : "Choose…"}</option>
                    {options.map((o) => (
                      <option key={o.value} value={o.value}>
                        {o.label}
                      </option>
                    ))}
                  </select>
                </td>
                {props.itemCodes ? (
                  <td>
                    <label className="visually-hidden" htmlFor={`item-${id}`}>
                      {name}: Xero item code
                    </label>
                    <input
                      id={`item-${id}`}
                      value={current.item}
                      onChange={(e) =>
                        setDrafts((d) => ({ ...d, [id]: { ...current, item: e.target.value } }))
                      }
                    />
                  </td>
                ) : null}
                {props.tracking && categories.length ? (
                  <td>
                    <TrackingPicker
                      label={`${name}: tracking`}
                      categories={categories}
                      value={current.tracking}
                      onChange={(v) => setDrafts((d) => ({ ...d, [id]: { ...current, tracking: v } }))}
                      idPrefix={`product-${id}-tracking`}
                    />
                  </td>
                ) : null}
              </tr>
            );
          })}
        </tbody>
      </table>
      <ErrorNotice error={save.error ?? patch.error} />
      {save.isSuccess || patch.isSuccess ? <StatusNotice>Saved.</StatusNotice> : null}
      <button type="submit" disabled={!owner || save.isPending || patch.isPending}>
        Save {what}
      </button>
    </form>
  );
}

// -- 8. Tax exceptions ---------------------------------------------------------------------------------

export function RuleBuilder({
  taxCodes,
  onSave,
  busy,
}: {
  taxCodes: { value: string; label: string }[];
  onSave: (rule: Schemas["TaxExceptionIn"]) => void;
  busy: boolean;
}) {
  const [rule, setRule] = useState<RuleDraft>(emptyRule);
  const [shown, setShown] = useState<string[]>([]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const problems = validateRule(rule);
    setShown(problems);
    if (problems.length === 0) {
      onSave(toApi(rule));
      setRule(emptyRule());
    }
  };
  return (
    <form onSubmit={submit} aria-label="New tax exception">
      <TextField label="Rule name" value={rule.name} onChange={(name) => setRule({ ...rule, name })} />
      {rule.conditions.map((condition, index) => (
        <fieldset key={index} className="condition">
          <legend>Condition {index + 1}</legend>
          <SelectField
            label={`Condition ${index + 1}: match on`}
            value={condition.field}
            onChange={(field) =>
              setRule(updateCondition(rule, index, { field: (field || "countries") as FilterField }))
            }
            options={FILTER_FIELDS.map((f) => ({ value: f.field, label: f.label }))}
          />
          <TextField
            label={`Condition ${index + 1}: values`}
            value={condition.values}
            onChange={(values) => setRule(updateCondition(rule, index, { values }))}
            hint={`Separate with commas, e.g. ${FILTER_FIELDS.find((f) => f.field === condition.field)?.example ?? ""}`}
          />
          {rule.conditions.length > 1 ? (
            <button type="button" className="secondary" onClick={() => setRule(removeCondition(rule, index))}>
              Remove condition {index + 1}
            </button>
          ) : null}
        </fieldset>
      ))}
      <button type="button" className="secondary" onClick={() => setRule(addCondition(rule))}>
        Add a condition
      </button>
      <SelectField
        label="Matching sales are tax inclusive with"
        value={rule.taxType}
        onChange={(taxType) => setRule({ ...rule, taxType })}
        options={taxCodes}
      />
      {shown.length ? (
        <div className="notice notice-error" role="alert">
          <ul>
            {shown.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <button type="submit" disabled={busy}>
        Add rule
      </button>
    </form>
  );
}

function TaxExceptions({ xeroId, owner }: { xeroId: string; owner: boolean }) {
  const queryClient = useQueryClient();
  const invalidate = useInvalidateSetup();
  const taxRates = useXero(xeroId, "tax-rates");
  const rules = useQuery({
    queryKey: ["tax-exceptions"],
    queryFn: async () => unwrap(await api.GET("/v1/tax-exceptions")).items,
  });
  const add = useMutation({
    mutationFn: async (rule: Schemas["TaxExceptionIn"]) =>
      unwrap(await api.POST("/v1/tax-exceptions", { body: rule })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["tax-exceptions"] });
      void invalidate();
    },
  });
  const remove = useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.DELETE("/v1/tax-exceptions/{rule_id}", { params: { path: { rule_id: id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["tax-exceptions"] }),
  });
  const patch = usePatchSettings();
  return (
    <>
      <h3>Rules</h3>
      {rules.data?.length === 0 ? <p>No tax exceptions: every taxed sale is tax exclusive.</p> : null}
      <ul>
        {(rules.data ?? []).map((rule) => (
          <li key={rule.id}>
            <strong>{rule.name}</strong>: {describeRule(rule)}{" "}
            {owner ? (
              <button type="button" className="secondary" onClick={() => remove.mutate(rule.id)}>
                Remove {rule.name}
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {owner ? (
        <>
          <h3>Add a rule</h3>
          <RuleBuilder
            taxCodes={taxOptions(taxRates.items)}
            onSave={(rule) => add.mutate(rule)}
            busy={add.isPending}
          />
          <ErrorNotice error={add.error ?? remove.error ?? patch.error} />
          <p>
            <button
              type="button"
              className="secondary"
              onClick={() => patch.mutate({ ontraport: { tax_exceptions_reviewed: true } })}
            >
              No tax exceptions are needed
            </button>
          </p>
        </>
      ) : null}
    </>
  );
}

// -- 9. Invoice options ---------------------------------------------------------------------------------

function InvoiceOptions({ xeroId, owner }: { xeroId: string; owner: boolean }) {
  const settings = useSettings();
  const taxRates = useXero(xeroId, "tax-rates");
  const patch = usePatchSettings();
  const sample = useQuery({
    queryKey: ["sample-transaction"],
    queryFn: async () =>
      unwrap(await api.GET("/v1/records", { params: { query: { source: "ontraport", page_size: 1 } } }))
        .items[0] ?? null,
  });
  const sampleDetail = useQuery({
    queryKey: ["record", sample.data?.id],
    queryFn: async () =>
      unwrap(await api.GET("/v1/records/{record_id}", { params: { path: { record_id: sample.data!.id } } })),
    enabled: Boolean(sample.data),
  });
  const [draft, setDraft] = useState<Partial<Schemas["OntraportOptions"]>>({});
  const saved = settings.data?.ontraport;
  if (!saved) return <Loading what="the invoice options" />;
  const options = { ...saved, ...draft };
  const set = (change: Partial<Schemas["OntraportOptions"]>) => setDraft((d) => ({ ...d, ...change }));
  const transaction =
    ((sampleDetail.data?.payload ?? {}) as { transaction?: Record<string, unknown> }).transaction ?? {};
  const [first, ...rest] = text(transaction.contact_name).split(" ");
  const fields: Record<string, string> = {
    transaction_id: text(transaction.id) || "1001",
    invoice_id: text(transaction.invoice_id || transaction.id) || "1001",
    order_id: text(transaction.order_id),
    external_order_id: text(transaction.external_order_id),
    contact_id: text(transaction.contact_id),
    first_name: first ?? "",
    last_name: rest.join(" ") || (first ?? ""),
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    patch.mutate({ ontraport: { ...draft, invoice_options_confirmed: true } });
  };
  return (
    <form onSubmit={submit} aria-label="Invoice options">
      <SelectField
        label="Invoice status in Xero"
        value={options.invoice_status ?? "AUTHORISED"}
        onChange={(v) => set({ invoice_status: v === "DRAFT" ? "DRAFT" : "AUTHORISED" })}
        options={[
          { value: "AUTHORISED", label: "Approved (payment applied at once)" },
          { value: "DRAFT", label: "Draft (you approve each one)" },
        ]}
      />
      <TextField
        label="Invoice number template"
        value={options.invoice_number_template ?? ""}
        onChange={(v) => set({ invoice_number_template: v })}
        hint={`Placeholders: {transaction_id}, {invoice_id}, {order_id}, {contact_id}, {first_name}, {last_name}`}
      />
      <TextField
        label="Reference template"
        value={options.reference_template ?? ""}
        onChange={(v) => set({ reference_template: v })}
      />
      <div className="preview" aria-live="polite">
        <strong>
          Preview
          {sample.data ? ` with transaction ${sample.data.external_id}` : " (example transaction 1001)"}:
        </strong>{" "}
        invoice number <output>{renderTemplate(options.invoice_number_template ?? "", fields)}</output>,
        reference <output>{renderTemplate(options.reference_template ?? "", fields)}</output>
      </div>
      <TextField
        label="Time zone of invoice dates"
        value={options.time_zone ?? "UTC"}
        onChange={(v) => set({ time_zone: v })}
        hint="An IANA name, like Australia/Sydney."
      />
      <SummaryOptions options={options} set={set} />
      <Checkbox
        label="Match existing Xero contacts by e-mail"
        checked={options.contact_match_by_email ?? true}
        onChange={(v) => set({ contact_match_by_email: v })}
      />
      {/* Issue 13: documents dated in a period the Xero organisation has locked. */}
      <SelectField
        label="Sales dated in a period Xero has locked"
        value={options.locked_period ?? "hold"}
        onChange={(v) => set({ locked_period: v === "first_open_day" ? "first_open_day" : "hold" })}
        options={[
          { value: "hold", label: "Hold them until the lock date moves" },
          {
            value: "first_open_day",
            label: "Post them on the first open day (original date in the reference)",
          },
        ]}
      />
      <SelectField
        label="Tax-free code for untaxed lines"
        value={options.tax_free_code ?? ""}
        onChange={(v) => set({ tax_free_code: v || null })}
        options={taxOptions(taxRates.items)}
        placeholder="None"
      />
      <ErrorNotice error={patch.error} />
      {saved.invoice_options_confirmed ? <StatusNotice>These options are confirmed.</StatusNotice> : null}
      <button type="submit" disabled={!owner || patch.isPending}>
        Save and confirm invoice options
      </button>
    </form>
  );
}

// -- 10. Import and go live ------------------------------------------------------------------------------

function ImportAndGoLive({
  ontraportId,
  owner,
  step,
}: {
  ontraportId: string;
  owner: boolean;
  step?: Schemas["SetupStep"];
}) {
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<"last_n" | "range">("last_n");
  const [lastN, setLastN] = useState("100");
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const imports = useQuery({
    queryKey: ["imports"],
    queryFn: async () => unwrap(await api.GET("/v1/imports")).items,
    refetchInterval: (query) =>
      (query.state.data ?? []).some((i) => i.status === "queued" || i.status === "running") ? 1_000 : 10_000,
  });
  const start = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/v1/imports", {
          body:
            mode === "last_n"
              ? { connection_id: ontraportId, last_n: Number(lastN) }
              : { connection_id: ontraportId, since: since || null, until: until || null },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["imports"] }),
  });
  const latest = imports.data?.[0];
  useEffect(() => {
    if (latest?.status === "done") void queryClient.invalidateQueries({ queryKey: keys.setup });
  }, [latest?.status, queryClient]);
  return (
    <>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          start.mutate();
        }}
        aria-label="Historical import"
      >
        <fieldset>
          <legend>Which past sales to bring in</legend>
          <div className="radio">
            <input
              id="import-last"
              type="radio"
              name="import-mode"
              checked={mode === "last_n"}
              onChange={() => setMode("last_n")}
            />
            <label htmlFor="import-last">The most recent ones</label>
          </div>
          <div className="radio">
            <input
              id="import-range"
              type="radio"
              name="import-mode"
              checked={mode === "range"}
              onChange={() => setMode("range")}
            />
            <label htmlFor="import-range">A date range</label>
          </div>
        </fieldset>
        {mode === "last_n" ? (
          <TextField label="How many sales" type="number" value={lastN} onChange={setLastN} />
        ) : (
          <>
            <TextField label="From" type="date" value={since} onChange={setSince} />
            <TextField label="To" type="date" value={until} onChange={setUntil} />
          </>
        )}
        <ErrorNotice error={start.error} />
        <button type="submit" disabled={!owner || start.isPending}>
          Start the import
        </button>
      </form>
      {latest ? (
        <section aria-labelledby="import-progress">
          <h3 id="import-progress">Import: {latest.status}</h3>
          <ProgressBar label="Sales imported" value={latest.done} max={latest.total ?? latest.done} />
          {latest.error ? <p className="field-error">{latest.error}</p> : null}
        </section>
      ) : null}
      <h3>Go live</h3>
      {step?.done ? (
        <StatusNotice>
          Live: new ONTRAPORT sales sync to Xero on their own. <Link to="/records">See the records</Link>
        </StatusNotice>
      ) : (
        <p>
          Once the import finishes (or the first new sale syncs), ledgerbridge runs on its own every few
          minutes.
        </p>
      )}
    </>
  );
}

// -- The wizard -------------------------------------------------------------------------------------

function StepBody({
  step,
  owner,
  progress,
}: {
  step: StepKey;
  owner: boolean;
  progress?: Schemas["SetupProgress"];
}) {
  const connections = useConnections();
  const { xero, ontraport } = activeConnections(connections.data);
  if (step === "connect_xero") return <ConnectXero owner={owner} />;
  if (!xero) return <p>Connect Xero and choose its organisation first.</p>;
  if (step === "connect_ontraport") return <ConnectOntraport owner={owner} />;
  if (step === "tax_exceptions") return <TaxExceptions xeroId={xero.id} owner={owner} />;
  if (step === "invoice_options") return <InvoiceOptions xeroId={xero.id} owner={owner} />;
  if (!ontraport) return <p>Connect ONTRAPORT first.</p>;
  const common = { xeroId: xero.id, ontraportId: ontraport.id, owner };
  switch (step) {
    case "gateways":
      return <Gateways {...common} />;
    case "products":
      return (
        <CatalogueStep
          {...common}
          catalogue="products"
          mappingKind="product"
          target="account_code"
          what="products"
          defaultSetting="default_sales_account"
          defaultLabel="Default sales account"
          itemCodes
          tracking
        />
      );
    case "taxes":
      return <CatalogueStep {...common} catalogue="taxes" mappingKind="tax" target="tax_type" what="taxes" />;
    case "coupons":
      return (
        <CatalogueStep
          {...common}
          catalogue="coupons"
          mappingKind="coupon"
          target="account_code"
          what="coupons"
          defaultSetting="default_coupon_account"
          defaultLabel="Default coupon account"
        />
      );
    case "shipping":
      return (
        <CatalogueStep
          {...common}
          catalogue="shipping-methods"
          mappingKind="shipping"
          target="account_code"
          what="shipping methods"
          defaultSetting="default_shipping_account"
          defaultLabel="Default shipping account"
        />
      );
    default:
      return (
        <ImportAndGoLive
          ontraportId={ontraport.id}
          owner={owner}
          step={findStep(progress, "import_and_go_live")}
        />
      );
  }
}

/** Whose changes each step shows: its mappings, rules, options or connections. */
const AUDIT_SUBJECTS: Record<StepKey, string> = {
  connect_xero: "connection",
  connect_ontraport: "connection",
  gateways: "mapping:gateway",
  products: "mapping:product",
  taxes: "mapping:tax",
  coupons: "mapping:coupon",
  shipping: "mapping:shipping",
  tax_exceptions: "tax_exception",
  invoice_options: "settings",
  import_and_go_live: "import",
};

export function SetupPage() {
  const { step: param } = useParams();
  const navigate = useNavigate();
  const me = useMe();
  const owner = me.data?.role === "owner";
  const connections = useConnections();
  const { ontraport } = activeConnections(connections.data);
  const setup = useQuery({
    queryKey: keys.setup,
    queryFn: async () => unwrap(await api.GET("/v1/setup")),
  });
  const names = useOntraport(ontraport?.id, "products");
  const heading = useRef<HTMLHeadingElement>(null);
  const current: StepKey = isStepKey(param) ? param : resumeStep(setup.data);
  useEffect(() => heading.current?.focus(), [current]);
  if (setup.isPending) return <Loading what="the setup" />;
  if (setup.error) return <ErrorNotice error={setup.error} />;
  const info = STEPS.find((s) => s.key === current)!;
  const status = findStep(setup.data, current);
  const index = STEPS.indexOf(info);
  const next = nextStep(current);
  const previous = previousStep(current);
  const missing = describeMissing(status, current === "products" ? catalogueNames(names.items) : {});
  return (
    <div className="wizard">
      <nav aria-label="Setup steps" className="steps">
        <p>
          {setup.data.done} of {STEPS.length} done
        </p>
        <ol>
          {STEPS.map((s) => {
            const state = stepState(setup.data, s.key, current);
            return (
              <li key={s.key} className={`step-${state}`}>
                <Link to={`/setup/${s.key}`} aria-current={s.key === current ? "step" : undefined}>
                  {s.label}
                  <span className="visually-hidden">{state === "done" ? " (done)" : " (to do)"}</span>
                  {state === "done" ? <span aria-hidden="true"> ✓</span> : null}
                </Link>
              </li>
            );
          })}
        </ol>
      </nav>
      <section className="step-panel" aria-labelledby="step-title">
        <p className="muted">
          Step {index + 1} of {STEPS.length}
        </p>
        <h1 id="step-title" tabIndex={-1} ref={heading}>
          {info.label}
        </h1>
        <p>{info.why}</p>
        <p className={status?.done ? "notice notice-ok" : "notice"} data-testid="step-summary">
          {status?.done ? "Done. " : "Still to do: "}
          {status?.summary}
        </p>
        {missing.length && !status?.done ? (
          <details>
            <summary>What is missing ({missing.length})</summary>
            <ul>
              {missing.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          </details>
        ) : null}
        <StepBody step={current} owner={owner} progress={setup.data} />
        <AuditTrail subject={AUDIT_SUBJECTS[current]} />
        <div className="wizard-nav">
          {previous ? (
            <button type="button" className="secondary" onClick={() => navigate(`/setup/${previous}`)}>
              Back
            </button>
          ) : null}
          {next ? (
            <button type="button" onClick={() => navigate(`/setup/${next}`)}>
              Next: {STEPS[index + 1]!.label}
            </button>
          ) : (
            <button type="button" onClick={() => navigate("/")}>
              Go to the dashboard
            </button>
          )}
        </div>
      </section>
    </div>
  );
}
