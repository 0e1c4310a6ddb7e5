import type { Schemas } from "../api/client";
import { Checkbox, SelectField } from "../components/ui";

type Options = Partial<Schemas["OntraportOptions"]>;

const HOURS = Array.from({ length: 24 }, (_, hour) => ({
  value: String(hour),
  label: `${String(hour).padStart(2, "0")}:00 the next day`,
}));

/** Summary mode (issue 13): one invoice per day and gateway, and the hour each day's summary is made. */
export function SummaryOptions({ options, set }: { options: Options; set: (change: Options) => void }) {
  const on = options.summary_mode ?? false;
  return (
    <fieldset className="summary-options">
      <legend>Daily summary</legend>
      <Checkbox
        label="Summarise each day's sales: one invoice and one payment per day and gateway"
        checked={on}
        onChange={(v) => set({ summary_mode: v })}
      />
      {on ? (
        <SelectField
          label="Close each day's summary at"
          value={String(options.summary_close_hour ?? 2)}
          onChange={(v) => set({ summary_close_hour: v === "" ? 2 : Number(v) })}
          options={HOURS}
          placeholder="Default (02:00 the next day)"
          hint="In the time zone above. A sale that reaches us after its day closed goes into an adjustment invoice (-ADJ1, -ADJ2…) for that day; a summary in Xero never changes."
        />
      ) : null}
    </fieldset>
  );
}
