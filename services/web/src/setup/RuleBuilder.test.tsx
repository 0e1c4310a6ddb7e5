import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RuleBuilder } from "../pages/Setup";

afterEach(cleanup);

const taxCodes = [
  { value: "OUTPUT", label: "GST on Income (10%)" },
  { value: "EXEMPTOUTPUT", label: "GST Free Income (0%)" },
];

describe("<RuleBuilder>", () => {
  it("shows why an incomplete rule cannot be saved, and saves nothing", () => {
    const onSave = vi.fn();
    render(<RuleBuilder taxCodes={taxCodes} onSave={onSave} busy={false} />);
    fireEvent.click(screen.getByRole("button", { name: "Add rule" }));
    expect(screen.getByRole("alert").textContent).toContain("Give the rule a name.");
    expect(onSave).not.toHaveBeenCalled();
  });

  it("builds conditions with the keyboard-reachable controls and saves the API's rule", () => {
    const onSave = vi.fn();
    render(<RuleBuilder taxCodes={taxCodes} onSave={onSave} busy={false} />);
    fireEvent.change(screen.getByLabelText("Rule name"), { target: { value: "Overseas" } });
    fireEvent.change(screen.getByLabelText("Condition 1: values"), { target: { value: "nz, au" } });
    fireEvent.click(screen.getByRole("button", { name: "Add a condition" }));
    fireEvent.change(screen.getByLabelText("Condition 2: match on"), { target: { value: "tags" } });
    fireEvent.change(screen.getByLabelText("Condition 2: values"), { target: { value: "wholesale" } });
    fireEvent.change(screen.getByLabelText("Matching sales are tax inclusive with"), {
      target: { value: "EXEMPTOUTPUT" },
    });
    fireEvent.click(screen.getByRole("button", { name: "Add rule" }));
    expect(onSave).toHaveBeenCalledTimes(1);
    const rule = onSave.mock.calls[0]![0] as {
      name: string;
      tax_type: string;
      filters: Record<string, string[]>;
    };
    expect(rule.name).toBe("Overseas");
    expect(rule.tax_type).toBe("EXEMPTOUTPUT");
    expect(rule.filters.countries).toEqual(["NZ", "AU"]);
    expect(rule.filters.tags).toEqual(["wholesale"]);
    // The form is emptied for the next rule.
    expect((screen.getByLabelText("Rule name") as HTMLInputElement).value).toBe("");
  });

  it("removes a condition", () => {
    render(<RuleBuilder taxCodes={taxCodes} onSave={vi.fn()} busy={false} />);
    fireEvent.click(screen.getByRole("button", { name: "Add a condition" }));
    expect(screen.getByLabelText("Condition 2: values")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Remove condition 2" }));
    expect(screen.queryByLabelText("Condition 2: values")).toBeNull();
  });
});
