import { describe, expect, it } from "vitest";
import type { Schemas } from "../api/client";
import { describeMissing, isStepKey, nextStep, previousStep, resumeStep, stepState, STEPS } from "./steps";

function progress(done: string[]): Schemas["SetupProgress"] {
  const steps = STEPS.map((s) => ({
    key: s.key,
    title: s.label,
    done: done.includes(s.key),
    missing: done.includes(s.key) ? [] : ["something"],
    summary: "",
  }));
  return { steps, onport: [], done: done.length, complete: done.length === STEPS.length };
}

describe("the wizard's steps", () => {
  it("has the ten steps of GET /v1/setup, in order", () => {
    expect(STEPS.map((s) => s.key)).toEqual([
      "connect_xero",
      "connect_ontraport",
      "gateways",
      "products",
      "taxes",
      "coupons",
      "shipping",
      "tax_exceptions",
      "invoice_options",
      "import_and_go_live",
    ]);
    expect(STEPS.every((s) => s.why.length > 20)).toBe(true);
  });

  it("resumes at the first step not done, even past done ones out of order", () => {
    expect(resumeStep(undefined)).toBe("connect_xero");
    expect(resumeStep(progress(["connect_xero", "connect_ontraport", "products"]))).toBe("gateways");
    expect(resumeStep(progress(STEPS.map((s) => s.key)))).toBe("import_and_go_live");
  });

  it("marks each step done, current or to do", () => {
    const p = progress(["connect_xero"]);
    expect(stepState(p, "connect_xero", "gateways")).toBe("done");
    expect(stepState(p, "gateways", "gateways")).toBe("current");
    expect(stepState(p, "taxes", "gateways")).toBe("todo");
  });

  it("moves forward and back, and stops at the ends", () => {
    expect(nextStep("connect_xero")).toBe("connect_ontraport");
    expect(nextStep("import_and_go_live")).toBeNull();
    expect(previousStep("connect_xero")).toBeNull();
    expect(previousStep("taxes")).toBe("products");
    expect(isStepKey("taxes")).toBe(true);
    expect(isStepKey("choose_organisation")).toBe(false);
  });

  it("names what is missing with ONTRAPORT's names where it has them", () => {
    const step = { key: "products", title: "", done: false, missing: ["1", "9"], summary: "" };
    expect(describeMissing(step, { "1": "Pro Course" })).toEqual(["Pro Course (1)", "9"]);
    expect(describeMissing({ ...step, done: true })).toEqual([]);
  });
});
