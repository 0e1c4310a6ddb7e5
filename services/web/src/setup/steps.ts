// The wizard's step logic, kept pure so Vitest can check it without a browser.
import type { Schemas } from "../api/client";

export type StepKey =
  | "connect_xero"
  | "connect_ontraport"
  | "gateways"
  | "products"
  | "taxes"
  | "coupons"
  | "shipping"
  | "tax_exceptions"
  | "invoice_options"
  | "import_and_go_live";

export interface StepInfo {
  key: StepKey;
  label: string;
  why: string;
}

/** The ten steps in order, each with why it matters, in a bookkeeper's words. */
export const STEPS: StepInfo[] = [
  {
    key: "connect_xero",
    label: "Connect Xero",
    why: "Invoices and payments are written into one Xero organisation: give consent, then choose it.",
  },
  {
    key: "connect_ontraport",
    label: "Connect ONTRAPORT",
    why: "Sales are read from ONTRAPORT with an App ID and API key (Administration → Integrations → ONTRAPORT API).",
  },
  {
    key: "gateways",
    label: "Payment gateways",
    why: "Each gateway decides the invoice's currency, branding theme and the account the payment lands in.",
  },
  {
    key: "products",
    label: "Products",
    why: "Each product line needs a sales account; a default account covers products you do not map.",
  },
  { key: "taxes", label: "Taxes", why: "Each ONTRAPORT tax becomes a Xero tax code." },
  {
    key: "coupons",
    label: "Coupons",
    why: "Discounts become their own negative line, to a coupon account.",
  },
  {
    key: "shipping",
    label: "Shipping",
    why: "Shipping becomes its own line, to a shipping account.",
  },
  {
    key: "tax_exceptions",
    label: "Tax exceptions",
    why: "Rules for sales where tax is included in the price (for example, overseas customers).",
  },
  {
    key: "invoice_options",
    label: "Invoice options",
    why: "How invoices are numbered, referenced and dated, and whether they are approved at once.",
  },
  {
    key: "import_and_go_live",
    label: "Import and go live",
    why: "Bring in past sales (a date range or the last N), then new sales sync on their own.",
  },
];

export type StepState = "done" | "current" | "todo";

export function stepIndex(key: string): number {
  return STEPS.findIndex((step) => step.key === key);
}

/** The first step that is not done (the one to resume at), or the last when all are done. */
export function resumeStep(progress: Schemas["SetupProgress"] | undefined): StepKey {
  const open = STEPS.find((step) => !findStep(progress, step.key)?.done);
  return (open ?? STEPS[STEPS.length - 1]!).key;
}

export function findStep(
  progress: Schemas["SetupProgress"] | undefined,
  key: string,
): Schemas["SetupStep"] | undefined {
  return progress?.steps.find((step) => step.key === key);
}

export function stepState(
  progress: Schemas["SetupProgress"] | undefined,
  key: StepKey,
  viewing: StepKey,
): StepState {
  if (findStep(progress, key)?.done) return "done";
  return key === viewing ? "current" : "todo";
}

export function nextStep(key: StepKey): StepKey | null {
  const index = stepIndex(key);
  return index >= 0 && index < STEPS.length - 1 ? STEPS[index + 1]!.key : null;
}

export function previousStep(key: StepKey): StepKey | null {
  const index = stepIndex(key);
  return index > 0 ? STEPS[index - 1]!.key : null;
}

export function isStepKey(value: string | undefined): value is StepKey {
  return STEPS.some((step) => step.key === value);
}

/** What a step still lacks, with ONTRAPORT's names instead of bare ids where the catalogue has them. */
export function describeMissing(
  step: Schemas["SetupStep"] | undefined,
  names: Record<string, string> = {},
): string[] {
  if (!step || step.done) return [];
  return step.missing.map((item) => (names[item] ? `${names[item]} (${item})` : item));
}
