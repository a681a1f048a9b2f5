import { sql, type RawBuilder } from 'kysely';
import type { SchemaStep } from '../db/gateway-schema/installer.js';
import { qualified, quoteLiteral } from '../db/sql-identifiers.js';
import { CAPTURE_TABLES } from '../live/capture/tables.js';

/**
 * Cached answers may carry a stream cursor (TripConnection.streamCursor), which the live feed refuses once the
 * change capture was put back after it (live/capture/install.ts records each time). The table's signature does
 * not change then when only the capture's trigger went away and came back, so a client re-reading the trips page
 * on CURSOR_EXPIRED, as the error tells it to, got the same refused cursor until the table was next written.
 * The response cache's version therefore includes the capture's record of its last recapture, read in the same
 * statement as the signature: the same in every process and across restarts, so ETags stay shared.
 */
export interface CursorGenerationTarget {
  schema: string;
  table: string;
  gatewaySchema: string;
}

const FUNCTION_NAME = 'trip_cursor_generation';

function functionName(target: CursorGenerationTarget): string {
  return qualified(target.gatewaySchema, FUNCTION_NAME);
}

/**
 * A step of the gateway schema installer. PL/pgSQL, so that it can answer NULL before the capture is installed
 * (no TRIGGER privilege, LIVE_CHANGE_CAPTURE=off, no synced table yet) instead of failing the version read; the
 * row is read as JSON so that a capture state of an older version (no recaptured_xid yet) reads too.
 */
export function cursorGenerationStep(target: CursorGenerationTarget): SchemaStep<void> {
  const state = qualified(target.gatewaySchema, CAPTURE_TABLES.state);
  const synced = quoteLiteral(qualified(target.schema, target.table));
  return {
    name: 'response cache cursor generation',
    run: async (trx) => {
      await sql
        .raw(
          `CREATE OR REPLACE FUNCTION ${functionName(target)}() RETURNS text
             LANGUAGE plpgsql STABLE AS $fn$
           BEGIN
             IF to_regclass(${quoteLiteral(state)}) IS NULL THEN RETURN NULL; END IF;
             RETURN (SELECT concat_ws('/', to_jsonb(s) ->> 'recaptured_xid', to_jsonb(s) ->> 'epoch')
                       FROM ${state} s WHERE s.relid = to_regclass(${synced}));
           END $fn$`,
        )
        .execute(trx);
    },
  };
}

/** The capture's last recapture as text (NULL without a capture); needs cursorGenerationStep. */
export function currentCursorGeneration(target: CursorGenerationTarget): RawBuilder<string | null> {
  return sql<string | null>`${sql.raw(functionName(target))}()`;
}
