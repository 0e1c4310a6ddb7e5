import { describe, expect, it } from "vitest";
import {
  addCondition,
  describeRule,
  emptyRule,
  FILTER_FIELDS,
  removeCondition,
  renderTemplate,
  splitValues,
  toApi,
  updateCondition,
  validateRule,
} from "./rules";

describe("the tax exception rule builder", () => {
  it("refuses an empty rule with every reason in words", () => {
    expect(validateRule(emptyRule())).toEqual([
      "Give the rule a name.",
      "Choose the Xero tax code for matching sales.",
      "Add at least one condition with a value.",
    ]);
  });

  it("builds the API's filters from conditions, normalised and without duplicates", () => {
    let rule = { ...emptyRule(), name: " Overseas ", taxType: "OUTPUT2" };
    rule = updateCondition(rule, 0, { values: "nz, au ,NZ" });
    rule = addCondition(rule);
    rule = updateCondition(rule, 1, { field: "email_domains", values: "@Example.co.nz" });
    expect(validateRule(rule)).toEqual([]);
    const body = toApi(rule);
    expect(body.name).toBe("Overseas");
    expect(body.tax_type).toBe("OUTPUT2");
    expect(body.filters.countries).toEqual(["NZ", "AU"]);
    expect(body.filters.email_domains).toEqual(["example.co.nz"]);
    expect(body.filters.emails).toEqual([]);
    expect(describeRule(body)).toBe(
      "Sales where customer country is NZ or AU and e-mail domain is example.co.nz are tax inclusive with OUTPUT2",
    );
  });

  it("sends ONTRAPORT ids as numbers and refuses ids that are not", () => {
    let rule = { ...emptyRule(), name: "Wholesale gateway", taxType: "OUTPUT" };
    rule = updateCondition(rule, 0, { field: "gateway_ids", values: "3, 7" });
    expect(toApi(rule).filters.gateway_ids).toEqual([3, 7]);
    rule = updateCondition(rule, 0, { values: "abc" });
    expect(validateRule(rule)).toEqual(["ONTRAPORT ids are whole numbers: abc."]);
  });

  it("rejects bad countries and e-mails, and the same kind of condition twice", () => {
    let rule = { ...emptyRule(), name: "x", taxType: "OUTPUT" };
    rule = updateCondition(rule, 0, { values: "New Zealand" });
    rule = addCondition(rule);
    rule = updateCondition(rule, 1, { field: "countries", values: "NZ" });
    const problems = validateRule(rule);
    expect(problems).toContain("Countries are two-letter codes (like NZ): NEW ZEALAND.");
    expect(problems).toContain("Use each kind of condition once.");
    const emails = updateCondition(emptyRule(), 0, { field: "emails", values: "jane@example.com, nope" });
    expect(validateRule({ ...emails, name: "x", taxType: "T" })).toEqual(["Not e-mail addresses: nope."]);
  });

  it("adds conditions until every filter is used, and removes them", () => {
    let rule = emptyRule();
    for (let i = 0; i < 10; i += 1) rule = addCondition(rule);
    expect(rule.conditions.map((c) => c.field)).toEqual(FILTER_FIELDS.map((f) => f.field));
    expect(removeCondition(rule, 0).conditions[0]?.field).toBe("email_domains");
    expect(splitValues("tags", "a,\nb, ,a")).toEqual(["a", "b"]);
  });

  it("previews invoice number templates and leaves unknown placeholders visible", () => {
    expect(renderTemplate("OP-{transaction_id}", { transaction_id: "1001" })).toBe("OP-1001");
    expect(renderTemplate("{last_name}-{invoice_id}-{nope}", { last_name: "Smith", invoice_id: "77" })).toBe(
      "Smith-77-{nope}",
    );
  });
});
