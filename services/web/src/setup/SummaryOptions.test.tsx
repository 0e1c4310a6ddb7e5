import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SummaryOptions } from "./SummaryOptions";

afterEach(cleanup);

describe("<SummaryOptions>", () => {
  it("switches summary mode on, and only then asks for the day-close hour", () => {
    const set = vi.fn();
    const { rerender } = render(<SummaryOptions options={{ summary_mode: false }} set={set} />);
    expect(screen.queryByLabelText("Close each day's summary at")).toBeNull();
    fireEvent.click(screen.getByLabelText(/Summarise each day's sales/));
    expect(set).toHaveBeenCalledWith({ summary_mode: true });

    rerender(<SummaryOptions options={{ summary_mode: true, summary_close_hour: 2 }} set={set} />);
    const hour = screen.getByLabelText("Close each day's summary at") as HTMLSelectElement;
    expect(hour.value).toBe("2");
    fireEvent.change(hour, { target: { value: "6" } });
    expect(set).toHaveBeenLastCalledWith({ summary_close_hour: 6 });
  });
});
