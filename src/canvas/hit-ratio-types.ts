/**
 * The `canvas_hit_ratio` view (migrations), as `GET /admin/stats` answers it in `canvas` and the dashboard shows it:
 * where Canvas lookups found their answer. Free of the Worker's types, so the bench reads it too.
 */
export interface CanvasHitRatioRow {
  memory_hits: number;
  d1_hits: number;
  notion_lookups: number;
  misses: number;
  hit_ratio: number | null;
}
