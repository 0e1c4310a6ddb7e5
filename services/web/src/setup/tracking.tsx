// Xero tracking categories on mappings (issue 13): one select per active category of the organisation,
// "none" by default. Xero keeps at most two active categories, and a line at most two, so a choice per
// active category always fits.
import type { Item } from "./reference";

export interface TrackingChoice {
  name: string;
  option: string;
}

const text = (value: unknown): string => (value === null || value === undefined ? "" : String(value));

export interface TrackingCategory {
  name: string;
  options: string[];
}

/** The active categories with their active options, from GET /v1/xero/{id}/tracking-categories. */
export function trackingCategories(items: Item[]): TrackingCategory[] {
  return items
    .filter((c) => text(c.Status || "ACTIVE") === "ACTIVE" && text(c.Name))
    .map((c) => ({
      name: text(c.Name),
      options: ((Array.isArray(c.Options) ? c.Options : []) as Item[])
        .filter((o) => text(o.Status || "ACTIVE") === "ACTIVE" && text(o.Name))
        .map((o) => text(o.Name)),
    }));
}

/** The tracking stored on a mapping target, if any. */
export function storedTracking(target: Record<string, unknown>): TrackingChoice[] {
  const raw = Array.isArray(target.tracking) ? (target.tracking as Item[]) : [];
  return raw.map((t) => ({ name: text(t.name), option: text(t.option) })).filter((t) => t.name && t.option);
}

/** ``choices`` with ``category`` set to ``option`` ("" removes it). */
export function choose(choices: TrackingChoice[], category: string, option: string): TrackingChoice[] {
  const others = choices.filter((c) => c.name.toLowerCase() !== category.toLowerCase());
  return option ? [...others, { name: category, option }] : others;
}

function chosen(choices: TrackingChoice[], category: string): string {
  return choices.find((c) => c.name.toLowerCase() === category.toLowerCase())?.option ?? "";
}

export function TrackingPicker({
  label,
  categories,
  value,
  onChange,
  idPrefix,
}: {
  label: string;
  categories: TrackingCategory[];
  value: TrackingChoice[];
  onChange: (value: TrackingChoice[]) => void;
  idPrefix: string;
}) {
  if (categories.length === 0) return null;
  return (
    <div className="tracking">
      {categories.map((category) => {
        const id = `${idPrefix}-${category.name.replace(/\W+/g, "-")}`;
        return (
          <div className="field" key={category.name}>
            <label htmlFor={id}>
              {label}: {category.name}
            </label>
            <select
              id={id}
              value={chosen(value, category.name)}
              onChange={(e) => onChange(choose(value, category.name, e.target.value))}
            >
              <option value="">No {category.name}</option>
              {category.options.map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
              {/* A stored option Xero no longer has stays visible, so the bookkeeper sees what to fix. */}
              {chosen(value, category.name) && !category.options.includes(chosen(value, category.name)) ? (
                <option value={chosen(value, category.name)}>
                  {chosen(value, category.name)} (not active in Xero)
                </option>
              ) : null}
            </select>
          </div>
        );
      })}
    </div>
  );
}
