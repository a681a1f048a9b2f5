/** The change record's tables in the gateway's schema (see install.ts). */
export const CAPTURE_TABLES = {
  log: 'trip_change_log',
  state: 'trip_change_capture',
  marks: 'trip_change_marks',
} as const;
