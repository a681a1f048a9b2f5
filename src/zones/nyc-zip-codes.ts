/**
 * NYC ZIP code reference data shipped with the gateway: ZIP → borough and
 * neighborhood, for the `Zone` type.
 *
 * Neighborhoods follow the NYC DOHMH United Hospital Fund grouping published as
 * "ZIP code definitions of New York City neighborhoods" (42 neighborhoods over
 * the residential ZIPs). Two kinds of entries are added to it because taxi
 * trips start and end there:
 * - the airports (11371 LaGuardia, 11430 JFK) get their own neighborhood
 *   instead of being folded into "West Queens" / "Jamaica";
 * - Manhattan building and business ZIPs (Rockefeller Center, Grand Central
 *   towers, Penn Station, the Financial District towers, Battery Park City)
 *   are placed in the UHF neighborhood that surrounds them.
 */

export const BOROUGHS = ['Manhattan', 'Brooklyn', 'Queens', 'Bronx', 'Staten Island'] as const;
export type Borough = (typeof BOROUGHS)[number];

export interface ZipZone {
  readonly zip: number;
  readonly borough: Borough;
  readonly neighborhood: string;
}

type Neighborhoods = Readonly<Record<string, readonly number[]>>;

const UHF_NEIGHBORHOODS: Readonly<Record<Borough, Neighborhoods>> = {
  Bronx: {
    'Central Bronx': [10453, 10457, 10460],
    'Bronx Park and Fordham': [10458, 10467, 10468],
    'High Bridge and Morrisania': [10451, 10452, 10456],
    'Hunts Point and Mott Haven': [10454, 10455, 10459, 10474],
    'Kingsbridge and Riverdale': [10463, 10471],
    'Northeast Bronx': [10466, 10469, 10470, 10475],
    'Southeast Bronx': [10461, 10462, 10464, 10465, 10472, 10473],
  },
  Brooklyn: {
    'Central Brooklyn': [11212, 11213, 11216, 11233, 11238],
    'Southwest Brooklyn': [11209, 11214, 11228],
    'Borough Park': [11204, 11218, 11219, 11230],
    'Canarsie and Flatlands': [11234, 11236, 11239],
    'Southern Brooklyn': [11223, 11224, 11229, 11235],
    'Northwest Brooklyn': [11201, 11205, 11215, 11217, 11231],
    Flatbush: [11203, 11210, 11225, 11226],
    'East New York and New Lots': [11207, 11208],
    Greenpoint: [11211, 11222],
    'Sunset Park': [11220, 11232],
    'Bushwick and Williamsburg': [11206, 11221, 11237],
  },
  Manhattan: {
    'Central Harlem': [10026, 10027, 10030, 10037, 10039],
    'Chelsea and Clinton': [10001, 10011, 10018, 10019, 10020, 10036],
    'East Harlem': [10029, 10035],
    'Gramercy Park and Murray Hill': [10010, 10016, 10017, 10022],
    'Greenwich Village and Soho': [10012, 10013, 10014],
    'Lower Manhattan': [10004, 10005, 10006, 10007, 10038, 10280],
    'Lower East Side': [10002, 10003, 10009],
    'Upper East Side': [10021, 10028, 10044, 10065, 10075, 10128],
    'Upper West Side': [10023, 10024, 10025],
    'Inwood and Washington Heights': [10031, 10032, 10033, 10034, 10040],
  },
  Queens: {
    'Northeast Queens': [11361, 11362, 11363, 11364],
    'North Queens': [11354, 11355, 11356, 11357, 11358, 11359, 11360],
    'Central Queens': [11365, 11366, 11367],
    Jamaica: [11412, 11423, 11432, 11433, 11434, 11435, 11436],
    'Northwest Queens': [11101, 11102, 11103, 11104, 11105, 11106],
    'West Central Queens': [11374, 11375, 11379, 11385],
    Rockaways: [11691, 11692, 11693, 11694, 11695, 11697],
    'Southeast Queens': [11004, 11005, 11411, 11413, 11422, 11426, 11427, 11428, 11429],
    'Southwest Queens': [11414, 11415, 11416, 11417, 11418, 11419, 11420, 11421],
    'West Queens': [11368, 11369, 11370, 11372, 11373, 11377, 11378],
  },
  'Staten Island': {
    'Port Richmond': [10302, 10303, 10310],
    'South Shore': [10306, 10307, 10308, 10309, 10312],
    'Stapleton and St. George': [10301, 10304, 10305],
    'Mid-Island': [10314],
  },
};

const AIRPORTS: Neighborhoods = {
  'LaGuardia Airport': [11371],
  'JFK Airport': [11430],
};

/** Manhattan ZIPs outside the UHF list, by the UHF neighborhood they lie in. */
const MANHATTAN_BUSINESS_ZIPS: Neighborhoods = {
  // West of Fifth Avenue, 34th–59th Street: Rockefeller Center, Sixth and Seventh Avenue towers, Penn Station.
  'Chelsea and Clinton': [10103, 10104, 10105, 10106, 10107, 10110, 10111, 10112, 10118, 10119, 10199],
  // East of Fifth Avenue in Midtown: the Park Avenue and Grand Central towers.
  'Gramercy Park and Murray Hill': [
    10152, 10153, 10154, 10165, 10167, 10168, 10169, 10170, 10171, 10172, 10173, 10174, 10177,
  ],
  'Lower Manhattan': [10271, 10278, 10279, 10281, 10282],
  // Riverside South, built after the UHF list was drawn.
  'Upper West Side': [10069],
};

function expand(borough: Borough, neighborhoods: Neighborhoods): ZipZone[] {
  return Object.entries(neighborhoods).flatMap(([neighborhood, zips]) =>
    zips.map((zip) => ({ zip, borough, neighborhood })),
  );
}

export const NYC_ZIP_ZONES: readonly ZipZone[] = Object.freeze(
  [
    ...BOROUGHS.flatMap((borough) => expand(borough, UHF_NEIGHBORHOODS[borough])),
    ...expand('Queens', AIRPORTS),
    ...expand('Manhattan', MANHATTAN_BUSINESS_ZIPS),
  ]
    .sort((a, b) => a.zip - b.zip)
    .map((zone) => Object.freeze(zone)),
);

const BY_ZIP: ReadonlyMap<number, ZipZone> = new Map(NYC_ZIP_ZONES.map((zone) => [zone.zip, zone]));

/** The reference entry for a ZIP, or undefined when the ZIP is not an NYC ZIP in the list. */
export function zipZone(zip: number): ZipZone | undefined {
  return BY_ZIP.get(zip);
}

export const AIRPORT_ZIPS = { laGuardia: 11371, jfk: 11430 } as const;
