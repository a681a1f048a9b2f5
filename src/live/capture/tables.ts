/** The change record's tables in the gateway's schema (see install.ts). */
export const CAPTURE_TABLES = {
  log: 'trip_change_log',
  state: 'trip_change_capture',
  marks: 'trip_change_marks',
  windows: 'trip_change_windows',
  windowRows: 'trip_change_window_rows',
} as const;
