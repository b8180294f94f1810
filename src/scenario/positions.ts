// Maps a path in the scenario data back to a line and column of the YAML source.
import { isAlias, isMap, isNode, isScalar, isSeq, type Document, type LineCounter } from "yaml";
import type { PathSegment } from "./paths.ts";

export interface SourcePosition {
  line: number;
  column: number;
}

export interface SourceMap {
  /**
   * Where the node at `path` is: its key or its value. A value written as a block on the
   * lines below its key, or left empty, is reported at the key, where a reader looks for
   * it. When the path leads nowhere (a missing key), the nearest existing ancestor.
   */
  positionOf(path: readonly PathSegment[], at: "key" | "value"): SourcePosition;
  lineOf(path: readonly PathSegment[]): number;
}

export function createSourceMap(doc: Document, lineCounter: LineCounter): SourceMap {
  const positionAt = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const start = (node: unknown): SourcePosition | undefined =>
    isNode(node) && node.range ? positionAt(node.range[0]) : undefined;
  const isEmpty = (node: unknown): boolean =>
    node === null || (isScalar(node) && node.value === null && node.range?.[0] === node.range?.[1]);

  const positionOf = (path: readonly PathSegment[], at: "key" | "value"): SourcePosition => {
    let node: unknown = doc.contents;
    let found: SourcePosition = start(node) ?? { line: 1, column: 1 };
    let keyPosition: SourcePosition | undefined;
    for (const segment of path) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isScalar(p.key) && String(p.key.value) === String(segment),
        );
        const key = pair === undefined ? undefined : start(pair.key);
        if (pair === undefined || key === undefined) return found;
        keyPosition = key;
        const value = start(pair.value);
        found = isEmpty(pair.value) || value === undefined || value.line > key.line ? key : value;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === "number") {
        const item = node.items[segment];
        const position = start(item);
        if (position === undefined) return found;
        keyPosition = undefined;
        found = position;
        node = item;
      } else {
        return found;
      }
    }
    return at === "key" && keyPosition !== undefined ? keyPosition : found;
  };

  return { positionOf, lineOf: (path) => positionOf(path, "value").line };
}
