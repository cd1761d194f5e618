import { describe, expect, it } from "vitest";
import { createSortedIdIndex } from "../../src/backends/local/sorted-id-index.js";

describe("createSortedIdIndex", () => {
  it("keeps ids unique and in byte order through inserts and removes", () => {
    const index = createSortedIdIndex(["b", "a", "B", "a", "_", "-", "."]);
    expect(index.all()).toEqual(["-", ".", "B", "_", "a", "b"]);
    index.insert("A");
    index.insert("b");
    index.insert("zz");
    index.remove("_");
    index.remove("missing");
    expect(index.all()).toEqual(["-", ".", "A", "B", "a", "b", "zz"]);
    expect(index.size).toBe(7);
    expect(index.has("A")).toBe(true);
    expect(index.has("_")).toBe(false);
    expect(index.has("z")).toBe(false);
  });

  it("pages with an exclusive lower bound that need not be present", () => {
    const index = createSortedIdIndex(["a", "c", "e", "g"]);
    expect(index.page(null, 2)).toEqual({ ids: ["a", "c"], more: true });
    expect(index.page("c", 2)).toEqual({ ids: ["e", "g"], more: false });
    expect(index.page("b", 1)).toEqual({ ids: ["c"], more: true });
    expect(index.page("g", 5)).toEqual({ ids: [], more: false });
    expect(index.page("", 0)).toEqual({ ids: [], more: true });
    // A non-ASCII bound sorts above every ASCII id, as in UTF-8 byte order.
    expect(index.page("é", 5)).toEqual({ ids: [], more: false });
  });

  it("returns copies", () => {
    const index = createSortedIdIndex(["a"]);
    index.page(null, 1).ids.push("x");
    index.all().push("y");
    expect(index.all()).toEqual(["a"]);
  });
});
