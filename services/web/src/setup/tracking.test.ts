import { describe, expect, it } from "vitest";
import { choose, storedTracking, trackingCategories } from "./tracking";

describe("tracking categories", () => {
  it("offers only active categories and active options", () => {
    const categories = trackingCategories([
      {
        Name: "Region",
        Status: "ACTIVE",
        Options: [
          { Name: "North", Status: "ACTIVE" },
          { Name: "Old West", Status: "ARCHIVED" },
        ],
      },
      { Name: "Campaign 2019", Status: "ARCHIVED", Options: [{ Name: "Launch", Status: "ACTIVE" }] },
    ]);
    expect(categories).toEqual([{ name: "Region", options: ["North"] }]);
  });

  it("keeps one option per category, and clears it with an empty choice", () => {
    const one = choose([], "Region", "North");
    const two = choose(one, "Channel", "Online");
    expect(choose(two, "region", "South")).toEqual([
      { name: "Channel", option: "Online" },
      { name: "region", option: "South" },
    ]);
    expect(choose(two, "Region", "")).toEqual([{ name: "Channel", option: "Online" }]);
  });

  it("reads what a mapping target stores, ignoring anything malformed", () => {
    expect(storedTracking({ tracking: [{ name: "Region", option: "North" }, { name: "X" }] })).toEqual([
      { name: "Region", option: "North" },
    ]);
    expect(storedTracking({ account_code: "200" })).toEqual([]);
  });
});
