// Alerts settings: e-mail (SMTP) and a signed webhook, what goes where, a test, and the latest alerts.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { useMe } from "../api/queries";
import { AuditTrail } from "../components/AuditTrail";
import {
  Checkbox,
  ErrorNotice,
  formatDate,
  Loading,
  SelectField,
  StatusBadge,
  StatusNotice,
  TextField,
} from "../components/ui";

type Settings = Schemas["AlertSettingsOut"];
type Kind = "records_failed" | "xero_consent" | "day_limit" | "daily_digest";
type Channel = "email" | "webhook";
type Choices = Record<Kind, Channel[]>;

const KINDS: { kind: Kind; label: string }[] = [
  { kind: "records_failed", label: "Records fail" },
  { kind: "xero_consent", label: "Xero consent expires or is revoked" },
  { kind: "day_limit", label: "Xero's daily limit pauses an organisation" },
  { kind: "daily_digest", label: "Daily digest" },
];
const CHANNELS: { channel: Channel; label: string; heading: string }[] = [
  { channel: "email", label: "by e-mail", heading: "E-mail" },
  { channel: "webhook", label: "by webhook", heading: "Webhook" },
];

interface Form {
  email: boolean;
  host: string;
  port: string;
  tls: "starttls" | "tls" | "none";
  username: string;
  password: string;
  from: string;
  recipients: string;
  webhook: boolean;
  url: string;
  format: "json" | "slack";
  choices: Choices;
}

function formFrom(settings: Settings): Form {
  const smtp = settings.smtp;
  return {
    email: smtp != null,
    host: smtp?.host ?? "",
    port: String(smtp?.port ?? 587),
    tls: (smtp?.tls as Form["tls"] | undefined) ?? "starttls",
    username: smtp?.username ?? "",
    password: "",
    from: smtp?.from_address ?? "",
    recipients: settings.recipients.join(", "),
    webhook: settings.webhook != null,
    url: settings.webhook?.url ?? "",
    format: settings.webhook?.format === "slack" ? "slack" : "json",
    choices: settings.preferences as Choices,
  };
}

function bodyFrom(form: Form): Schemas["AlertSettingsIn"] {
  return {
    smtp: form.email
      ? {
          host: form.host.trim(),
          port: Number(form.port) || 587,
          tls: form.tls,
          username: form.username.trim() || null,
          password: form.password ? form.password : null,
          from_address: form.from.trim(),
        }
      : null,
    recipients: form.recipients
      .split(/[,\s]+/)
      .map((address) => address.trim())
      .filter(Boolean),
    webhook: form.webhook ? { url: form.url.trim(), format: form.format } : null,
    preferences: form.choices,
  };
}

function Secret({ secret }: { secret: string }) {
  return (
    <StatusNotice>
      The webhook signing secret, shown only now: <code data-testid="webhook-secret">{secret}</code>. Keep it
      in your receiver to check <code>X-Ledgerbridge-Signature</code>.
    </StatusNotice>
  );
}

function RecentAlerts({ recent }: { recent: Settings["recent"] }) {
  return (
    <section className="card" aria-labelledby="recent-alerts">
      <h2 id="recent-alerts">Latest alerts</h2>
      {recent.length === 0 ? <p>No alerts yet.</p> : null}
      {recent.length ? (
        <table>
          <caption className="visually-hidden">The latest alerts and how each was delivered</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col">Records</th>
              <th scope="col">Delivery</th>
            </tr>
          </thead>
          <tbody>
            {recent.map((alert) => (
              <tr key={alert.id}>
                <td>{formatDate(alert.created_at)}</td>
                <td>
                  <a href={alert.link}>{alert.title}</a>
                </td>
                <td>{alert.count}</td>
                <td>
                  {alert.deliveries.length === 0 ? "no channel chosen" : null}
                  {alert.deliveries.map((delivery) => (
                    <div key={delivery.channel}>
                      {delivery.channel}: <StatusBadge status={delivery.status} />
                      {delivery.attempts > 1 ? ` after ${delivery.attempts} tries` : ""}
                      {delivery.last_error ? (
                        <span className="field-error"> {delivery.last_error}</span>
                      ) : null}
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function Choose({ form, set }: { form: Form; set: (form: Form) => void }) {
  const toggle = (kind: Kind, channel: Channel, on: boolean) => {
    const chosen = new Set(form.choices[kind]);
    if (on) chosen.add(channel);
    else chosen.delete(channel);
    set({ ...form, choices: { ...form.choices, [kind]: [...chosen].sort() } });
  };
  return (
    <table className="choices">
      <caption>What you receive, and how</caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          {CHANNELS.map(({ channel, heading }) => (
            <th key={channel} scope="col">
              {heading}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {KINDS.map(({ kind, label }) => (
          <tr key={kind}>
            <th scope="row">{label}</th>
            {CHANNELS.map(({ channel, label: how }) => (
              <td key={channel}>
                <input
                  type="checkbox"
                  aria-label={`${label} ${how}`}
                  checked={form.choices[kind].includes(channel)}
                  onChange={(e) => toggle(kind, channel, e.target.checked)}
                />
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function AlertsPage() {
  const me = useMe();
  const owner = me.data?.role === "owner";
  const queryClient = useQueryClient();
  const settings = useQuery({
    queryKey: ["alerts"],
    queryFn: async () => unwrap(await api.GET("/v1/alerts")),
    refetchInterval: 5_000, // deliveries change behind the page's back (the alerts worker)
  });
  const [form, setForm] = useState<Form | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  useEffect(() => {
    if (settings.data && form === null) setForm(formFrom(settings.data));
  }, [settings.data, form]);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ["alerts"] });
  const save = useMutation({
    mutationFn: async (body: Schemas["AlertSettingsIn"]) => unwrap(await api.PUT("/v1/alerts", { body })),
    onSuccess: (saved) => {
      if (saved.webhook_secret) setSecret(saved.webhook_secret);
      setForm(formFrom(saved));
      refresh();
    },
  });
  const rotate = useMutation({
    mutationFn: async () => unwrap(await api.POST("/v1/alerts/webhook-secret")),
    onSuccess: (made) => setSecret(made.secret),
  });
  const test = useMutation({
    mutationFn: async () => unwrap(await api.POST("/v1/alerts/test")),
    onSuccess: refresh,
  });
  if (settings.isPending || form === null) return <Loading what="the alerts settings" />;
  if (settings.error) return <ErrorNotice error={settings.error} />;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(bodyFrom(form));
  };
  const data = settings.data;
  return (
    <>
      <h1>Alerts</h1>
      <p>
        Be told when records fail, when Xero consent is lost, when Xero&apos;s daily limit pauses sending, and
        every morning. Each alert says what happened, how many records, and links to the fix.
      </p>
      {!owner ? <p>Only an owner can change where alerts go.</p> : null}
      <form onSubmit={submit} aria-label="Alert settings">
        <fieldset>
          <legend>E-mail</legend>
          <Checkbox
            label="Send alerts by e-mail"
            checked={form.email}
            onChange={(on) => setForm({ ...form, email: on })}
          />
          {form.email ? (
            <>
              <TextField
                label="SMTP server"
                value={form.host}
                onChange={(v) => setForm({ ...form, host: v })}
                required
              />
              <TextField
                label="Port"
                type="number"
                value={form.port}
                onChange={(v) => setForm({ ...form, port: v })}
                hint="587 with STARTTLS, 465 with TLS"
              />
              <SelectField
                label="Encryption"
                value={form.tls}
                onChange={(v) => setForm({ ...form, tls: v === "tls" || v === "none" ? v : "starttls" })}
                options={[
                  { value: "starttls", label: "STARTTLS" },
                  { value: "tls", label: "TLS" },
                  { value: "none", label: "None (local servers only)" },
                ]}
              />
              <TextField
                label="User name"
                value={form.username}
                onChange={(v) => setForm({ ...form, username: v })}
              />
              <TextField
                label="Password"
                type="password"
                value={form.password}
                onChange={(v) => setForm({ ...form, password: v })}
                hint={
                  data.smtp?.password_set ? "Stored encrypted. Leave empty to keep it." : "Stored encrypted."
                }
                autoComplete="new-password"
              />
              <TextField
                label="From address"
                type="email"
                value={form.from}
                onChange={(v) => setForm({ ...form, from: v })}
                required
              />
              <TextField
                label="Recipients"
                value={form.recipients}
                onChange={(v) => setForm({ ...form, recipients: v })}
                hint="Comma-separated e-mail addresses; empty sends to the account's owners"
              />
            </>
          ) : null}
        </fieldset>
        <fieldset>
          <legend>Webhook</legend>
          <Checkbox
            label="Send alerts to a webhook"
            checked={form.webhook}
            onChange={(on) => setForm({ ...form, webhook: on })}
          />
          {form.webhook ? (
            <>
              <TextField
                label="Webhook URL"
                type="url"
                value={form.url}
                onChange={(v) => setForm({ ...form, url: v })}
                hint="https:// (http:// only to localhost outside production). Each post is signed."
                required
              />
              <SelectField
                label="Format"
                value={form.format}
                onChange={(v) => setForm({ ...form, format: v === "slack" ? "slack" : "json" })}
                options={[
                  { value: "json", label: "JSON (signed alert object)" },
                  { value: "slack", label: 'Slack incoming webhook ({"text": …})' },
                ]}
              />
            </>
          ) : null}
        </fieldset>
        <Choose form={form} set={setForm} />
        <ErrorNotice error={save.error} />
        {save.isSuccess ? <StatusNotice>Alert settings saved.</StatusNotice> : null}
        {owner ? (
          <button type="submit" disabled={save.isPending}>
            Save alert settings
          </button>
        ) : null}
      </form>
      {secret ? <Secret secret={secret} /> : null}
      {owner ? (
        <div className="actions">
          <button type="button" className="secondary" onClick={() => test.mutate()} disabled={test.isPending}>
            Send a test alert
          </button>
          {data.webhook ? (
            <button
              type="button"
              className="secondary"
              onClick={() => rotate.mutate()}
              disabled={rotate.isPending}
            >
              Make a new signing secret
            </button>
          ) : null}
        </div>
      ) : null}
      {test.isSuccess ? (
        <StatusNotice>
          Test alert queued for {test.data.channels.join(" and ")}; it goes out within seconds.
        </StatusNotice>
      ) : null}
      <ErrorNotice error={test.error} />
      <ErrorNotice error={rotate.error} />
      <RecentAlerts recent={data.recent} />
      <AuditTrail subject="alerts" />
    </>
  );
}
