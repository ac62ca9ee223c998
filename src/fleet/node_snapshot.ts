/**
 * The saved form of the fleet view's node table: one flat row per node,
 * which JSON keeps, checked cell by cell when it is read back.
 *
 * @module
 */

/** The saved form of a node table, as `NodeTable.snapshot()` makes it. */
export interface NodeSnapshot {
  version: 1;
  /** When it was made, Unix seconds. */
  savedAt: number;
  /** One array per node, in the order of {@linkcode SNAPSHOT_FIELDS}. */
  nodes: (string | number | null)[][];
}

/** The columns of {@linkcode NodeSnapshot.nodes}. */
export const SNAPSHOT_FIELDS = [
  "node_id",
  "first_message_at",
  "last_message_at",
  "last_data_at",
  "newest_reading_time",
  "last_reading_time",
  "messages",
  "records",
  "dead_letters",
  "readings_from_future",
  "bridge",
  "bridge_since",
  "intervals",
] as const;

/**
 * The rows of a snapshot, each checked. Throws a `TypeError` naming what
 * is wrong when `value` is not a version 1 snapshot.
 */
export function snapshotRows(value: unknown): (string | number | null)[][] {
  if (typeof value !== "object" || value === null || (value as NodeSnapshot).version !== 1) {
    throw new TypeError("Cannot restore the node table: not a version 1 snapshot");
  }
  const rows = (value as NodeSnapshot).nodes;
  if (!Array.isArray(rows)) {
    throw new TypeError('Cannot restore the node table: "nodes" is not an array');
  }
  rows.forEach((row, index) => {
    if (!validRow(row)) {
      throw new TypeError(`Cannot restore the node table: node ${index} is malformed`);
    }
  });
  return rows;
}

function validRow(row: unknown): boolean {
  if (!Array.isArray(row) || row.length !== SNAPSHOT_FIELDS.length) return false;
  if (typeof row[0] !== "string" || row[0] === "" || typeof row[12] !== "string") return false;
  for (let i = 1; i < 12; i++) {
    const cell = row[i];
    if (cell !== null && (typeof cell !== "number" || !Number.isFinite(cell))) return false;
  }
  const required = [1, 2, 6, 7, 8, 9, 10];
  if (required.some((i) => row[i] === null)) return false;
  return /^(\d+( \d+)*)?$/.test(row[12]);
}
