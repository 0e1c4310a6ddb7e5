// The tax exception rule builder's model: conditions over the API's filters, validated before saving.
import type { Schemas } from "../api/client";

export type FilterField = keyof Schemas["TaxExceptionFilters"];

export const FILTER_FIELDS: { field: FilterField; label: string; example: string }[] = [
  { field: "countries", label: "Customer country", example: "NZ" },
  { field: "email_domains", label: "E-mail domain", example: "example.co.nz" },
  { field: "emails", label: "E-mail address", example: "jane@example.com" },
  { field: "tags", label: "Contact tag", example: "wholesale" },
  { field: "gateway_ids", label: "Payment gateway", example: "3" },
  { field: "product_ids", label: "Product", example: "1" },
];

export interface Condition {
  field: FilterField;
  values: string;
}

export interface RuleDraft {
  name: string;
  taxType: string;
  conditions: Condition[];
}

export function emptyRule(): RuleDraft {
  return { name: "", taxType: "", conditions: [{ field: "countries", values: "" }] };
}

export function addCondition(rule: RuleDraft): RuleDraft {
  const used = new Set(rule.conditions.map((c) => c.field));
  const free = FILTER_FIELDS.find((f) => !used.has(f.field));
  return free ? { ...rule, conditions: [...rule.conditions, { field: free.field, values: "" }] } : rule;
}

export function removeCondition(rule: RuleDraft, index: number): RuleDraft {
  return { ...rule, conditions: rule.conditions.filter((_, i) => i !== index) };
}

export function updateCondition(rule: RuleDraft, index: number, change: Partial<Condition>): RuleDraft {
  return { ...rule, conditions: rule.conditions.map((c, i) => (i === index ? { ...c, ...change } : c)) };
}

function normalise(field: FilterField, value: string): string {
  const trimmed = value.trim();
  if (field === "countries") return trimmed.toUpperCase();
  if (field === "emails" || field === "email_domains") return trimmed.toLowerCase().replace(/^@/, "");
  return trimmed;
}

export function splitValues(field: FilterField, values: string): string[] {
  const parts = values
    .split(/[,\n]/)
    .map((part) => normalise(field, part))
    .filter(Boolean);
  return [...new Set(parts)];
}

/** Problems that keep the rule from being saved, in words; empty when it can be saved. */
export function validateRule(rule: RuleDraft): string[] {
  const problems: string[] = [];
  if (!rule.name.trim()) problems.push("Give the rule a name.");
  if (!rule.taxType) problems.push("Choose the Xero tax code for matching sales.");
  const filled = rule.conditions.filter((c) => splitValues(c.field, c.values).length > 0);
  if (filled.length === 0) problems.push("Add at least one condition with a value.");
  for (const condition of rule.conditions) {
    if (condition.field === "countries") {
      const bad = splitValues("countries", condition.values).filter((c) => !/^[A-Z]{2}$/.test(c));
      if (bad.length) problems.push(`Countries are two-letter codes (like NZ): ${bad.join(", ")}.`);
    }
    if (condition.field === "gateway_ids" || condition.field === "product_ids") {
      const bad = splitValues(condition.field, condition.values).filter((id) => !/^\d+$/.test(id));
      if (bad.length) problems.push(`ONTRAPORT ids are whole numbers: ${bad.join(", ")}.`);
    }
    if (condition.field === "emails") {
      const bad = splitValues("emails", condition.values).filter((e) => !/^[^@\s]+@[^@\s]+$/.test(e));
      if (bad.length) problems.push(`Not e-mail addresses: ${bad.join(", ")}.`);
    }
  }
  const fields = rule.conditions.map((c) => c.field);
  if (new Set(fields).size !== fields.length) problems.push("Use each kind of condition once.");
  return problems;
}

export function toApi(rule: RuleDraft, priority = 100): Schemas["TaxExceptionIn"] {
  const filters: Schemas["TaxExceptionFilters"] = {
    countries: [],
    email_domains: [],
    emails: [],
    tags: [],
    gateway_ids: [],
    product_ids: [],
  };
  for (const condition of rule.conditions) {
    const values = splitValues(condition.field, condition.values);
    if (condition.field === "gateway_ids" || condition.field === "product_ids") {
      // ONTRAPORT ids are integers; validateRule refuses anything else before a save.
      filters[condition.field] = values.map(Number);
    } else {
      filters[condition.field] = values;
    }
  }
  return { name: rule.name.trim(), tax_type: rule.taxType, enabled: true, priority, filters };
}

/** A rule in a sentence: "Sales where customer country is NZ or AU are tax inclusive with OUTPUT2". */
export function describeRule(rule: Pick<Schemas["TaxExceptionOut"], "filters" | "tax_type">): string {
  const parts = FILTER_FIELDS.flatMap(({ field, label }) => {
    // A stored rule the API can no longer read comes back as it was stored: show what it holds.
    const raw: unknown = (rule.filters as Record<string, unknown>)[field];
    const values: unknown[] = Array.isArray(raw) ? raw : [];
    return values.length ? [`${label.toLowerCase()} is ${values.map(String).join(" or ")}`] : [];
  });
  return `Sales where ${parts.join(" and ") || "anything"} are tax inclusive with ${rule.tax_type}`;
}

/** The invoice number a template gives for a transaction (the live preview of the invoice options). */
export function renderTemplate(template: string, fields: Record<string, string | undefined>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => fields[name] ?? whole);
}
