// A small set of accessible building blocks on plain semantic HTML: every input has a visible label,
// hints and errors are tied to it with aria-describedby, status changes are announced.
import { useId, type ReactNode } from "react";
import { describeError } from "../api/client";

interface FieldProps {
  label: string;
  hint?: ReactNode;
  error?: string | null;
  children: (props: { id: string; "aria-describedby"?: string; "aria-invalid"?: boolean }) => ReactNode;
}

export function Field({ label, hint, error, children }: FieldProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const described = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, "aria-describedby": described, "aria-invalid": error ? true : undefined })}
      {hint ? (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

interface TextFieldProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  type?: string;
  hint?: ReactNode;
  error?: string | null;
  autoComplete?: string;
  required?: boolean;
  name?: string;
}

export function TextField({ label, value, onChange, type = "text", hint, error, ...rest }: TextFieldProps) {
  return (
    <Field label={label} hint={hint} error={error}>
      {(props) => (
        <input {...props} {...rest} type={type} value={value} onChange={(e) => onChange(e.target.value)} />
      )}
    </Field>
  );
}

export interface Option {
  value: string;
  label: string;
}

interface SelectFieldProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: Option[];
  placeholder?: string;
  hint?: ReactNode;
  error?: string | null;
  name?: string;
}

export function SelectField({
  label,
  value,
  onChange,
  options,
  placeholder,
  hint,
  error,
  name,
}: SelectFieldProps) {
  return (
    <Field label={label} hint={hint} error={error}>
      {(props) => (
        <select {...props} name={name} value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="">{placeholder ?? "Choose…"}</option>
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function Checkbox({
  label,
  checked,
  onChange,
}: {
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
}) {
  const id = useId();
  return (
    <div className="checkbox">
      <input id={id} type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}

export function ErrorNotice({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="notice notice-error" role="alert">
      {describeError(error)}
    </p>
  );
}

export function StatusNotice({ children }: { children: ReactNode }) {
  return (
    <p className="notice notice-ok" role="status">
      {children}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function ProgressBar({ label, value, max }: { label: string; value: number; max: number }) {
  const percent = max > 0 ? Math.round((value / max) * 100) : 0;
  return (
    <div className="progress">
      <div className="progress-label" id={`${label}-label`}>
        {label}: {value} of {max} ({percent}%)
      </div>
      <progress aria-labelledby={`${label}-label`} value={value} max={max || 1} />
    </div>
  );
}

export function RefreshButton({ onClick, busy, what }: { onClick: () => void; busy: boolean; what: string }) {
  return (
    <button type="button" className="secondary" onClick={onClick} disabled={busy} aria-busy={busy}>
      {busy ? `Refreshing ${what}…` : `Refresh ${what}`}
    </button>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status.replace(/_/g, " ")}</span>;
}

export function formatDate(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}
