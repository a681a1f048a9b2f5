/** Quotes a Postgres identifier; configured names (PGSCHEMA, TRIPS_TABLE) may be reserved words like "default". */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/** A SQL string literal, for text that cannot take bind parameters (function bodies, DDL). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
