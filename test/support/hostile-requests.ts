/**
 * Hostile requests, as an attacker without credentials would send them: each
 * with the clear answer it must get (a 4xx, or a GraphQL error whose message
 * names the problem). Shared by the edge tests, the memory test and the abuse
 * benchmark (bench/abuse.ts).
 */
export interface HostileRequest {
  name: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | FormData;
  /** The first error message (or, for bodyless answers, the status text) must match. */
  expect: RegExp;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const cursor = (values: unknown[]) => Buffer.from(JSON.stringify([1, 'id:asc', values])).toString('base64url');
const json = (query: string, variables?: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ query, variables, ...extra });
const post = (name: string, body: string, expect: RegExp, headers: Record<string, string> = {}): HostileRequest => ({
  name,
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body,
  expect,
});
const get = (name: string, search: string, expect: RegExp, headers: Record<string, string> = {}): HostileRequest => ({
  name,
  path: `/graphql?${search}`,
  headers,
  expect,
});

const NODES = 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }';
const TRIPS = `query($after: String, $filter: TripFilter, $first: Int) {
  trips(first: $first, after: $after, filter: $filter, orderBy: [TRIP_ID_ASC]) { edges { node { tripId } } } }`;
const TRIPS_BY_PICKUP = `query($after: String) {
  trips(first: 5, after: $after, orderBy: [PICKUP_AT_ASC]) { edges { node { tripId } } } }`;

function nested(depth: number, inner: string, open = '[', close = ']'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

function notFilter(depth: number): Record<string, unknown> {
  let filter: Record<string, unknown> = { fareAmount: { gt: 1 } };
  for (let level = 0; level < depth; level += 1) filter = { not: filter };
  return filter;
}

/** The worst documents of the issue, cut to what the body limit lets through. */
export function worstDocuments(): { name: string; body: string }[] {
  return [
    {
      name: '12k __typename aliases',
      body: json(`{ ${Array.from({ length: 12_000 }, (_, i) => `a${i}: __typename`).join(' ')} }`),
    },
    {
      name: '250 aliased introspections',
      body: json(
        `{ ${Array.from({ length: 250 }, (_, i) => `i${i}: __schema { types { name fields { name } } }`).join(' ')} }`,
      ),
    },
    { name: 'nodes with 20k ids', body: json(NODES, { ids: Array.from({ length: 20_000 }, (_, i) => String(i)) }) },
    {
      name: 'fragment chain',
      body: json(
        Array.from({ length: 2000 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} }`).join(' ') +
          ' fragment F2000 on Query { __typename } { ...F0 }',
      ),
    },
    { name: '5000 fields', body: json(`{ ${'__typename '.repeat(5000)}}`) },
    { name: 'list nested 10k deep', body: json(`{ zone(zip: ${nested(10_000, '1')}) { zip } }`) },
  ];
}

export function hostileRequests(): HostileRequest[] {
  const requests: HostileRequest[] = [
    // ---- GET parameters (were 500s)
    get('GET variables that are not JSON', 'query=%7B__typename%7D&variables=%7Bbad', /^variables: is not valid JSON/),
    get(
      'GET extensions that are not JSON',
      'query=%7B__typename%7D&extensions=%7Bbad',
      /^extensions: is not valid JSON/,
    ),
    get('GET variables truncated', 'query=%7B__typename%7D&variables=%7B%22a%22%3A', /^variables: is not valid JSON/),
    get('GET without a query', 'operationName=x', /Must provide query string/),
    get(
      'GET with a mutation',
      `query=${encodeURIComponent('mutation { refreshSyncedTable { __typename } }')}`,
      /mutation.*POST|POST.*mutation/i,
    ),
    // ---- content types: what a cross-site form can send never runs an operation
    {
      name: 'form-encoded query',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=%7B__typename%7D',
      expect: /form-encoded, multipart and text bodies are refused/,
    },
    {
      name: 'form-encoded mutation',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `query=${encodeURIComponent('mutation { refreshSyncedTable { __typename } }')}`,
      expect: /cross-site form/,
    },
    {
      name: 'multipart mutation',
      method: 'POST',
      body: formData('mutation { refreshSyncedTable { __typename } }'),
      expect: /multipart\/form-data/,
    },
    {
      name: 'text/plain JSON body',
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: json('{ __typename }'),
      expect: /"text\/plain"/,
    },
    {
      name: 'POST without Content-Type',
      method: 'POST',
      headers: { 'content-type': '' },
      body: json('{ __typename }'),
      expect: /no Content-Type/,
    },
    {
      name: 'PATCH',
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: json('{ __typename }'),
      expect: /PATCH requests .* are not supported/,
    },
    post('body that is not JSON', '{"query": ', /JSON/i),
    post('JSON array body (batching is off)', JSON.stringify([{ query: '{ __typename }' }]), /batch|Invalid|object/i),
    post('JSON string body', '"{ __typename }"', /Invalid|object|POST body/i),
    post('query that is not a string', JSON.stringify({ query: 42 }), /query.*string|Invalid "query"/i),
    post(
      'unknown request parameter',
      JSON.stringify({ query: '{ __typename }', stealth: 1 }),
      /Unexpected parameter "stealth"/,
    ),
    // ---- media types (were empty 406/415 bodies)
    post(
      'subscription asked as JSON',
      json('subscription { tripsAdded { cursor } }'),
      /subscription: send Accept: text\/event-stream/,
      { accept: 'application/json' },
    ),
    post(
      'subscription asked as graphql-response+json',
      json('subscription { tripsAdded { cursor } }'),
      /text\/event-stream/,
      { accept: 'application/graphql-response+json' },
    ),
    post('query asked as an image', json('{ __typename }'), /accept one of/, { accept: 'image/png' }),
    // ---- size and structure of documents
    post('body over the limit', json(`{ a: __typename } # ${'x'.repeat(300_000)}`), /Request body too large/),
    ...worstDocuments().map((doc) => ({
      name: doc.name,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: doc.body,
      expect:
        /Token limit of \d+ exceeded|query cost \d+ exceeds|lists \d+ items; at most \d+|nests brackets or braces more than \d+|too large to validate/,
    })),
    // The issue's own sizes: over the body limit before anything is parsed.
    post(
      'chain of 10,000 fragments',
      json(
        Array.from({ length: 10_000 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} }`).join(' ') +
          ' fragment F10000 on Query { __typename } { ...F0 }',
      ),
      /Request body too large/,
    ),
    post(
      '2 MB document of 100k __typename aliases',
      json(`{ ${Array.from({ length: 100_000 }, (_, i) => `a${i}: __typename`).join(' ')} }`),
      /Request body too large/,
    ),
    post(
      'nodes with 100k ids',
      json(NODES, { ids: Array.from({ length: 100_000 }, (_, i) => String(i)) }),
      /Request body too large/,
    ),
    post(
      'selection nested 100 deep',
      json(nested(100, '__typename', '{ a: __typename ', '}').replace(/^\{ a: __typename /, '{ ')),
      /nests brackets or braces more than 64 levels|Cannot query field/,
    ),
    post(
      '60 aliased groupings, each a scan of its own (a pool taken by one request)',
      json(
        `{ ${Array.from({ length: 60 }, (_, i) => `g${i}: tripGroups(groupBy: [PICKUP_ZIP], first: 1) { stats { count } }`).join(' ')} }`,
      ),
      /^the query asks for 60 pages, totals and groupings .*at most 50 are allowed in one request/,
    ),
    post(
      "60 aliased zones' pickups, each with a filter of its own (one statement each)",
      json(
        `{ ${Array.from({ length: 60 }, (_, i) => `z${i}: zone(zip: 10001) { pickups(filter: { fareAmount: { gte: ${i} } }) { count } }`).join(' ')} }`,
      ),
      /^the query asks for 60 pages, totals and groupings \(trips, tripStats, tripGroups, Zone\.pickups and Zone\.dropoffs, .*at most 50 are allowed in one request/,
    ),
    // ---- over-deep queries: MAX_QUERY_DEPTH (10) for selections, graphql-js' introspection depth, 32 for values
    post(
      'selection 12 deep through real fields',
      json(`{ __type(name: "Trip") { fields { type ${nested(8, '{ name }', '{ ofType ', '}')} } } }`),
      /^the query nests selections 12 levels deep; at most 10 are allowed \(MAX_QUERY_DEPTH\)$/,
    ),
    post(
      'selection 15 deep of unknown fields',
      json(`{ trips { edges { node { pickupZone ${nested(11, '{ zip }', '{ zone ', '}')} } } } }`),
      /the query nests selections \d+ levels deep; at most 10 are allowed \(MAX_QUERY_DEPTH\)/,
    ),
    post(
      'selection deep through a fragment chain',
      json(
        '{ __type(name: "Trip") { ...F0 } } ' +
          Array.from({ length: 11 }, (_, i) => `fragment F${i} on __Type { ofType { ...F${i + 1} } }`).join(' ') +
          ' fragment F11 on __Type { name }',
      ),
      /the query nests selections \d+ levels deep; at most 10 are allowed \(MAX_QUERY_DEPTH\)/,
    ),
    post(
      'selection deep through inline fragments',
      json(`{ __type(name: "Trip") ${nested(11, '{ name }', '{ ... on __Type { ofType ', '} }')} }`),
      /the query nests selections \d+ levels deep; at most 10 are allowed \(MAX_QUERY_DEPTH\)/,
    ),
    get(
      'GET selection 12 deep',
      `query=${encodeURIComponent(`{ __type(name: "Trip") { fields { type ${nested(8, '{ name }', '{ ofType ', '}')} } } }`)}`,
      /at most 10 are allowed \(MAX_QUERY_DEPTH\)/,
    ),
    post(
      'introspection nested through __schema',
      json('{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }'),
      /^Maximum introspection depth exceeded/,
    ),
    post(
      'introspection nested through __type',
      json(
        '{ __type(name: "Query") { fields { type { ofType { fields { type { ofType { fields { name } } } } } } } } }',
      ),
      /Maximum introspection depth exceeded|at most 10 are allowed \(MAX_QUERY_DEPTH\)/,
    ),
    post(
      'introspection nested through fragments',
      json(
        '{ __schema { types { ...T0 } } } fragment T0 on __Type { fields { type { ...T1 } } } ' +
          'fragment T1 on __Type { fields { type { ...T2 } } } fragment T2 on __Type { fields { name } }',
      ),
      /^Maximum introspection depth exceeded/,
    ),
    post(
      'zip literal list nested 40 deep',
      json(`{ zone(zip: ${nested(40, '1')}) { zip } }`),
      /^zip: nests deeper than 32 levels/,
    ),
    post(
      'ids literal list nested 40 deep',
      json(`{ nodes(ids: ${nested(40, '"VHJpcDoz"')}) { id } }`),
      /^ids: nests deeper than 32 levels/,
    ),
    post(
      'ids variable nested 40 deep',
      json(NODES, { ids: JSON.parse(nested(40, '"VHJpcDoz"')) as unknown }),
      /^\$ids: nests deeper than 32 levels/,
    ),
    // JSON.parse reads these; anything recursive after it (the response cache's key, graphql-js' coercion) would
    // overflow the stack. ~200 KB each, under the default body limit.
    post(
      'ids variable nested 100k deep',
      `{"query":${JSON.stringify(NODES)},"variables":{"ids":${nested(100_000, '"VHJpcDoz"')}}}`,
      /^\$ids: nests deeper than 32 levels/,
    ),
    post(
      'filter variable nested 15k deep',
      `{"query":${JSON.stringify(TRIPS)},"variables":{"filter":${nested(15_000, '{"fareAmount":{"gt":1}}', '{"not":', '}')}}}`,
      /^\$filter: nests deeper than 32 levels/,
    ),
    post(
      'variables an array nested 100k deep',
      `{"query":"{ __typename }","variables":${nested(100_000, '1')}}`,
      /^variables: must be an object of variable values by name, but an array was given/,
    ),
    get(
      'GET variables nested 2k deep',
      `query=${encodeURIComponent(NODES)}&variables=${encodeURIComponent(`{"ids":${nested(2_000, '"VHJpcDoz"')}}`)}`,
      /^\$ids: nests deeper than 32 levels/,
    ),
    post(
      'operationName an object',
      JSON.stringify({ query: '{ __typename }', operationName: {} }),
      /^operationName: must be a string or null, but an object was given/,
    ),
    post(
      'filter literal nested 40 deep',
      json(`{ trips(filter: ${nested(40, '{ fareAmount: { gt: 1 } }', '{ not: ', '}')}) { totalCount } }`),
      /^filter: nests deeper than 32 levels/,
    ),
    {
      name: 'subscription 12 deep over SSE',
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: json(`subscription { tripsAdded { trips { pickupZone ${nested(9, '{ zip }', '{ zone ', '}')} } } }`),
      expect: /at most 10 are allowed \(MAX_QUERY_DEPTH\)/,
    },
    post(
      'aliases past the limit (3000 __typename)',
      json(`{ ${Array.from({ length: 3000 }, (_, i) => `t${i}: __typename`).join(' ')} }`),
      /the query has \d+ aliases; at most 250 are allowed \(MAX_ALIASES\)/,
    ),
    post(
      '20 aliased introspections',
      json(`{ ${Array.from({ length: 20 }, (_, i) => `s${i}: __schema { queryType { name } }`).join(' ')} }`),
      /query cost \d+ exceeds the limit/,
    ),
    post(
      'fragment cycle',
      json('fragment A on Query { ...B } fragment B on Query { ...A } { ...A }'),
      /Cannot spread fragment "A" within itself/,
    ),
    post(
      '60 directives',
      json(`{ __typename ${'@include(if: true) '.repeat(60)}}`),
      /at most 50 are allowed \(MAX_DIRECTIVES\)|directive/i,
    ),
    post(
      '200 KB string literal',
      json(`{ "${'x'.repeat(200_000)}" }`),
      /^Syntax Error: .{0,1100}more characters cut\)$/s,
    ),
    post('unterminated string', json('{ trips(after: "abc) { totalCount } }'), /Syntax Error: Unterminated string/),
    post(
      'unknown operation name',
      json('query A { __typename }', undefined, { operationName: 'B' }),
      /operationName "B" names no operation in the document/,
    ),
    post('two anonymous operations', json('{ __typename } { __typename }'), /anonymous operation must be the only one/),
    post(
      'nodes literal with 1500 ids',
      json(`{ nodes(ids: [${Array.from({ length: 1500 }, (_, i) => `"${i}"`).join(',')}]) { id } }`),
      /^ids: lists 1500 items; at most 1000/,
    ),
    post(
      'nodes variable with 5000 ids',
      json(NODES, { ids: Array.from({ length: 5000 }, (_, i) => String(i)) }),
      /^\$ids: lists 5000 items; at most 1000/,
    ),
    post(
      'filter variable nested 40 deep',
      json(TRIPS, { filter: notFilter(40) }),
      /^\$filter: nests deeper than 32 levels/,
    ),
    post('filter nested 12 deep', json(TRIPS, { filter: notFilter(12) }), /nest deeper than 8 levels/),
    post('page of 100000', json(TRIPS, { first: 100_000 }), /first: 100000 exceeds the maximum page size/),
    // ---- node ids (were internal errors; one bad id nulled the good ones): each an error at its own index
    post(
      'node id Trip:abc',
      json(NODES, { ids: [b64('Trip:abc'), b64('Trip:3')] }),
      /^ids\[0\]: .* decodes to "Trip:abc"; a Trip key/,
    ),
    post(
      'node id raw Trip:abc',
      json(NODES, { ids: ['Trip:abc'] }),
      /^ids\[0\]: "Trip:abc" is not a node id: it is not base64/,
    ),
    post(
      'node id beyond int8',
      json(NODES, { ids: [b64('Trip:99999999999999999999')] }),
      /decodes to "Trip:99999999999999999999"; a Trip key is a 64-bit integer/,
    ),
    post(
      'node id with a NUL byte',
      json(NODES, { ids: [b64('Trip:1\u0000')] }),
      /decodes to "Trip:1\\u0000"; a Trip key/,
    ),
    post('node id that is a NUL byte', json(NODES, { ids: ['\u0000'] }), /^ids\[0\]: "\\u0000" is not a node id/),
    post(
      'node id empty key',
      json(NODES, { ids: [b64('Trip:3'), b64('Trip:')] }),
      /^ids\[1\]: .* decodes to "Trip:"; a Trip key/,
    ),
    post('node id empty string', json(NODES, { ids: [''] }), /^ids\[0\]: "" is not a node id/),
    post('node id not base64', json(NODES, { ids: ['%%%'] }), /^ids\[0\]: "%%%" is not a node id: it is not base64/),
    post(
      'node id of a Zone',
      json(NODES, { ids: [b64('Zone:10001')] }),
      /"Zone" has no node ids \(only Trip has them\)/,
    ),
    post('node id of an unknown type', json(NODES, { ids: [b64('Taxi:1')] }), /"Taxi" has no node ids/),
    post(
      'node(id:) with a bad id',
      json('query($id: ID!) { node(id: $id) { id } }', { id: b64('Trip:1e3') }),
      /^id: .* decodes to "Trip:1e3"; a Trip key/,
    ),
    post('node(id:) with an empty key', json('{ node(id: "VHJpcDo=") { id } }'), /^id: "VHJpcDo=" is not a node id/),
    // ---- cursors (were internal errors)
    post(
      'cursor beyond int8',
      json(TRIPS, { after: cursor(['99999999999999999999']), first: 5 }),
      /^after: is not a valid cursor/,
    ),
    post(
      'cursor below int8',
      json(TRIPS, { after: cursor(['-9999999999999999999']), first: 5 }),
      /^after: is not a valid cursor/,
    ),
    post(
      'cursor at year 0',
      json(TRIPS_BY_PICKUP, {
        after: Buffer.from(JSON.stringify([1, 'pickupAt:asc,id:asc', ['0000-01-01T00:00:00.000000Z', '1']])).toString(
          'base64url',
        ),
      }),
      /after: (is not a valid cursor|cursor was issued)/,
    ),
    post(
      'cursor on 2016-02-30',
      json(TRIPS_BY_PICKUP, {
        after: Buffer.from(JSON.stringify([1, 'pickupAt:asc,id:asc', ['2016-02-30T00:00:00.000000Z', '1']])).toString(
          'base64url',
        ),
      }),
      /after: (is not a valid cursor|cursor was issued)/,
    ),
    post('cursor of garbage', json(TRIPS, { after: '!!!', first: 5 }), /^after: is not a valid cursor/),
    {
      name: 'tripsAdded cursor beyond int8',
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: json('subscription($after: String) { tripsAdded(after: $after) { cursor } }', {
        after: cursor(['99999999999999999999']),
      }),
      expect: /after: (is not a valid tripsAdded cursor|a trips page cursor is not a stream position)/,
    },
    // ---- dates (were internal errors or silently moved)
    post(
      'filter from year 0',
      json(TRIPS, { filter: { pickupAt: { gte: '0000-01-01T00:00:00Z' } } }),
      /year must be 0001 or later/,
    ),
    post(
      'filter on 2016-02-30',
      json(TRIPS, { filter: { pickupAt: { gte: '2016-02-30T00:00:00Z' } } }),
      /2016-02-30 does not exist/,
    ),
    post(
      'filter on 2015-02-29',
      json(TRIPS, { filter: { dropoffAt: { lt: '2015-02-29T00:00:00Z' } } }),
      /2015-02-29 does not exist/,
    ),
    post(
      'filter on month 13',
      json(TRIPS, { filter: { pickupAt: { gte: '2016-13-01T00:00:00Z' } } }),
      /2016-13-01 does not exist|not a valid date/,
    ),
    post(
      'filter on 2016-04-31 (literal)',
      json('{ trips(filter: { pickupAt: { lt: "2016-04-31T10:00:00Z" } }) { totalCount } }'),
      /2016-04-31 does not exist/,
    ),
    post('filter at 25:00', json(TRIPS, { filter: { pickupAt: { gte: '2016-01-01T25:00:00Z' } } }), /not a valid date/),
    post('tripId beyond int8', json(TRIPS, { filter: { tripId: { eq: '99999999999999999999' } } }), /BigInt/),
    post('variable of the wrong type', json(TRIPS, { first: 'ten' }), /Int cannot represent/),
    // ---- persisted ids when persisted operations are off
    post(
      'documentId while persisted operations are off',
      JSON.stringify({ documentId: 'sha256:abc' }),
      /persisted operations are off on this gateway \(PERSISTED_OPERATIONS=off\): send the query itself/,
    ),
    // ---- other paths and methods
    { name: 'unknown path', path: '/graphql-nope', expect: /Not Found|404/ },
  ];
  return requests;
}

function formData(query: string): FormData {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query }));
  form.set('map', '{}');
  return form;
}
