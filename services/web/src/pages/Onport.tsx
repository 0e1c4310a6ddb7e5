import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { keys, patchSettings, useConnections, useMe, useMeta, useSettings, xeroHref } from "../api/queries";
import { accountOptions, taxOptions, useXero } from "../setup/reference";
import {
  Checkbox,
  ErrorNotice,
  formatDate,
  Loading,
  RefreshButton,
  SelectField,
  StatusBadge,
  StatusNotice,
  TextField,
} from "../components/ui";

function ConnectOnport({ xeroConnections }: { xeroConnections: Schemas["ConnectionOut"][] }) {
  const meta = useMeta();
  const queryClient = useQueryClient();
  const [token, setToken] = useState("");
  const [xeroId, setXeroId] = useState("");
  const connect = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/v1/connections/onport", {
          body: { api_token: token, xero_connection_id: xeroId || null },
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys.connections });
      void queryClient.invalidateQueries({ queryKey: keys.setup });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    connect.mutate();
  };
  return (
    <section className="card" aria-labelledby="connect-onport">
      <h2 id="connect-onport">Connect Onport</h2>
      <form onSubmit={submit} aria-label="Connect Onport">
        <TextField
          label="Onport API token"
          type="password"
          value={token}
          onChange={setToken}
          hint={
            meta.data?.sandbox
              ? `Sandbox: paste ${meta.data.sandbox.onport_token}`
              : "In Onport: Settings → API → create a token."
          }
          required
        />
        <SelectField
          label="Xero organisation bills go to"
          value={xeroId}
          onChange={setXeroId}
          options={xeroConnections.map((c) => ({ value: c.id, label: c.name }))}
          hint="Try a demo organisation first. Add another organisation on the Connections page."
        />
        <ErrorNotice error={connect.error} />
        <button type="submit" disabled={connect.isPending}>
          Connect Onport
        </button>
      </form>
    </section>
  );
}

function Vendors({ xeroId, owner }: { xeroId: string; owner: boolean }) {
  const queryClient = useQueryClient();
  const [filter, setFilter] = useState("");
  const vendors = useQuery({
    queryKey: ["onport-vendors"],
    // The default listing reads Onport (the stored invoices' vendors if Onport cannot be read);
    // ?live=true, which insists on Onport, is a costly call limited per account.
    queryFn: async () => unwrap(await api.GET("/v1/onport/vendors")).items,
  });
  const suppliers = useQuery({
    queryKey: ["xero-suppliers", xeroId],
    queryFn: async () =>
      unwrap(
        await api.GET("/v1/xero/{connection_id}/{kind}", {
          params: { path: { connection_id: xeroId, kind: "contacts" }, query: { is_supplier: true } },
        }),
      ),
  });
  const [refreshing, setRefreshing] = useState(false);
  const refresh = async () => {
    setRefreshing(true);
    try {
      await api.GET("/v1/xero/{connection_id}/{kind}", {
        params: { path: { connection_id: xeroId, kind: "contacts" }, query: { refresh: true } },
      });
      await queryClient.invalidateQueries({ queryKey: ["xero-suppliers", xeroId] });
    } finally {
      setRefreshing(false);
    }
  };
  const link = useMutation({
    mutationFn: async ({ vendor, contact }: { vendor: number; contact: string }) =>
      unwrap(
        await api.PUT("/v1/mappings/{kind}/{source_id}", {
          params: { path: { kind: "vendor", source_id: String(vendor) } },
          body: { contact_id: contact },
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["onport-vendors"] });
      void queryClient.invalidateQueries({ queryKey: keys.setup });
    },
  });
  const needle = filter.trim().toLowerCase();
  const options = (suppliers.data?.items ?? [])
    .map((c) => ({ value: String(c.ContactID ?? ""), label: String(c.Name ?? c.ContactID ?? "") }))
    .filter((o) => !needle || o.label.toLowerCase().includes(needle));
  return (
    <section className="card" aria-labelledby="vendors">
      <h2 id="vendors">Vendors and their Xero suppliers</h2>
      <div className="row">
        <div className="field">
          <label htmlFor="supplier-filter">Search Xero suppliers</label>
          <input
            id="supplier-filter"
            type="search"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
          />
        </div>
        <RefreshButton onClick={() => void refresh()} busy={refreshing} what="Xero suppliers" />
      </div>
      {vendors.isPending ? <Loading what="vendors" /> : null}
      <ErrorNotice error={vendors.error ?? suppliers.error ?? link.error} />
      <ul className="plain">
        {(vendors.data ?? []).map((vendor) => (
          <li key={vendor.id}>
            <SelectField
              label={`${vendor.name ?? `Vendor ${vendor.id}`}: Xero supplier`}
              value={vendor.contact_id ?? ""}
              onChange={(contact) => contact && owner && link.mutate({ vendor: vendor.id, contact })}
              options={options}
              placeholder={vendor.linked ? (vendor.contact_name ?? "Linked") : "Not linked yet"}
              hint={
                vendor.linked
                  ? `Linked to ${vendor.contact_name ?? vendor.contact_id}`
                  : "Bills wait until linked."
              }
            />
          </li>
        ))}
      </ul>
    </section>
  );
}

function Options({ owner, xeroId }: { owner: boolean; xeroId: string }) {
  const settings = useSettings();
  const accounts = useXero(xeroId, "accounts");
  const taxRates = useXero(xeroId, "tax-rates");
  const currencies = useXero(xeroId, "currencies");
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: async (onport: Partial<Schemas["OnportOptions"]>) => patchSettings({ onport }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys.settings });
      void queryClient.invalidateQueries({ queryKey: keys.setup });
    },
  });
  const [draft, setDraft] = useState<Partial<Schemas["OnportOptions"]>>({});
  const saved = settings.data?.onport;
  if (!saved) return <Loading what="options" />;
  const onport = { ...saved, ...draft };
  const set = (change: Partial<Schemas["OnportOptions"]>) => setDraft((d) => ({ ...d, ...change }));
  const accountList = accountOptions(accounts.items);
  return (
    <section className="card" aria-labelledby="onport-options">
      <h2 id="onport-options">Automatic sync and accounts</h2>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate(draft);
        }}
        aria-label="Onport options"
      >
        <Checkbox
          label="Sync dropship invoices automatically"
          checked={onport.auto_sync_dropship}
          onChange={(checked) => set({ auto_sync_dropship: checked })}
        />
        <Checkbox
          label="Sync replenishment invoices automatically"
          checked={onport.auto_sync_replenishment}
          onChange={(checked) => set({ auto_sync_replenishment: checked })}
        />
        <SelectField
          label="Purchases account"
          value={onport.default_purchases_account ?? ""}
          onChange={(v) => set({ default_purchases_account: v || null })}
          options={accountList}
          placeholder="None"
        />
        <SelectField
          label="Shipping account"
          value={onport.shipping_account ?? ""}
          onChange={(v) => set({ shipping_account: v || null })}
          options={accountList}
          placeholder="None"
        />
        <SelectField
          label="Tax code for taxed lines"
          value={onport.default_tax_code ?? ""}
          onChange={(v) => set({ default_tax_code: v || null })}
          options={taxOptions(taxRates.items)}
          placeholder="None"
        />
        <SelectField
          label="Tax code for untaxed lines"
          value={onport.tax_free_code ?? ""}
          onChange={(v) => set({ tax_free_code: v || null })}
          options={taxOptions(taxRates.items)}
          placeholder="None"
        />
        <fieldset>
          <legend>Vendor payouts: the account each currency&apos;s payouts are paid from</legend>
          {currencies.items.map((currency) => {
            const code = String(currency.Code ?? "");
            return (
              <SelectField
                key={code}
                label={`Payout account for ${code}`}
                value={onport.payout_accounts?.[code] ?? ""}
                onChange={(v) => v && set({ payout_accounts: { ...onport.payout_accounts, [code]: v } })}
                options={accountOptions(accounts.items, "payments")}
                placeholder="No payouts synced"
              />
            );
          })}
        </fieldset>
        <ErrorNotice error={save.error ?? accounts.error} />
        {save.isSuccess ? <StatusNotice>Saved.</StatusNotice> : null}
        <button type="submit" disabled={!owner || save.isPending}>
          Save Onport options
        </button>
      </form>
    </section>
  );
}

function Invoices() {
  const meta = useMeta();
  const queryClient = useQueryClient();
  const [syncing, setSyncing] = useState<Set<string>>(new Set());
  const invoices = useQuery({
    queryKey: ["onport-invoices"],
    queryFn: async () =>
      unwrap(await api.GET("/v1/onport/invoices", { params: { query: { page_size: 100 } } })),
    refetchInterval: syncing.size > 0 ? 1_500 : 10_000,
  });
  const sync = useMutation({
    mutationFn: async (id: string) => {
      setSyncing((current) => new Set(current).add(id));
      return unwrap(
        await api.POST("/v1/onport/invoices/{record_id}/sync", { params: { path: { record_id: id } } }),
      );
    },
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ["onport-invoices"] }),
  });
  return (
    <section className="card" aria-labelledby="invoices">
      <h2 id="invoices">Purchase invoices</h2>
      <ErrorNotice error={invoices.error ?? sync.error} />
      {invoices.isPending ? <Loading what="purchase invoices" /> : null}
      <table>
        <caption className="visually-hidden">Onport purchase invoices, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Invoice</th>
            <th scope="col">Vendor</th>
            <th scope="col">Type</th>
            <th scope="col">Date</th>
            <th scope="col">Total</th>
            <th scope="col">Status</th>
            <th scope="col">Xero bill</th>
          </tr>
        </thead>
        <tbody>
          {(invoices.data?.items ?? []).map((invoice) => {
            const href = xeroHref(invoice.xero, meta.data);
            const label = invoice.reference ?? invoice.invoice_id;
            const waiting = syncing.has(invoice.id) && !href;
            return (
              <tr key={invoice.id}>
                <td>{label}</td>
                <td>{invoice.vendor.name ?? ""}</td>
                <td>{invoice.purchase_type ?? ""}</td>
                <td>{formatDate(invoice.invoice_date)}</td>
                <td>
                  {invoice.total ?? ""} {invoice.currency ?? ""}
                </td>
                <td>
                  <StatusBadge status={invoice.status} /> {invoice.reason ?? ""}
                </td>
                <td>
                  {href ? (
                    <a href={href} target="_blank" rel="noreferrer">
                      Open bill {invoice.xero?.number ?? label} in Xero
                    </a>
                  ) : waiting ? (
                    <span role="status">Syncing {label}…</span>
                  ) : (
                    <button type="button" onClick={() => sync.mutate(invoice.id)}>
                      Sync {label} to Xero
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function OnportChecklist() {
  const setup = useQuery({ queryKey: keys.setup, queryFn: async () => unwrap(await api.GET("/v1/setup")) });
  if (!setup.data) return null;
  return (
    <section className="card" aria-labelledby="onport-steps">
      <h2 id="onport-steps">Onport setup</h2>
      <ol>
        {setup.data.onport.map((step) => (
          <li key={step.key} className={step.done ? "step-done" : undefined}>
            <strong>{step.title}</strong>: {step.done ? "done. " : "to do: "}
            {step.summary}
          </li>
        ))}
      </ol>
    </section>
  );
}

export function OnportPage() {
  const connections = useConnections();
  const me = useMe();
  const owner = me.data?.role === "owner";
  if (connections.isPending) return <Loading what="connections" />;
  const list = connections.data ?? [];
  const onport = list.find((c) => c.kind === "onport" && c.status === "active");
  const xeroConnections = list.filter((c) => c.kind === "xero" && c.status === "active" && c.xero_tenant_id);
  return (
    <>
      <h1>Onport bills</h1>
      <p>Each Onport purchase invoice becomes a bill in Xero against the vendor&apos;s supplier contact.</p>
      <OnportChecklist />
      {onport ? (
        <p>
          Connected: {onport.name}, posting to{" "}
          {xeroConnections.find((c) => c.id === onport.xero_connection_id)?.name ?? "no organisation yet"}.
        </p>
      ) : owner ? (
        <ConnectOnport xeroConnections={xeroConnections} />
      ) : (
        <p>Onport is not connected; an owner can connect it.</p>
      )}
      {onport?.xero_connection_id ? <Vendors xeroId={onport.xero_connection_id} owner={owner} /> : null}
      {onport?.xero_connection_id ? <Options owner={owner} xeroId={onport.xero_connection_id} /> : null}
      {onport ? <Invoices /> : null}
    </>
  );
}
