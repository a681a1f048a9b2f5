/**
 * When trips happen and how fast traffic moves, January–February 2016, in
 * NYC wall-clock time. Shapes follow published yellow-cab patterns: a morning
 * ramp, a dip at the 4–5 pm shift change, the evening peak, quiet 3–5 am on
 * weekdays, busy small hours on Friday and Saturday nights, and the real
 * calendar: New Year's Day, MLK Day, Presidents' Day and the 23–24 January
 * blizzard (travel ban from 2:30 pm on Saturday).
 */

/** 2016-01-01T00:00:00Z in seconds; timestamps are wall-clock times stored as UTC, as in samples.nyctaxi.trips. */
export const SAMPLE_EPOCH_SECONDS = Date.UTC(2016, 0, 1) / 1000;
/** January (31) + February 2016 (29). */
export const SAMPLE_DAYS = 60;

// Relative trips per hour of day, 0..23.
const WEEKDAY = [
  1.6, 0.9, 0.6, 0.45, 0.5, 0.8, 2.1, 3.6, 4.4, 4.4, 4.2, 4.3, 4.6, 4.6, 4.8, 4.6, 4.0, 4.7, 5.9, 6.4, 6.0, 5.8, 5.4,
  4.0,
];
const FRIDAY = WEEKDAY.map((w, hour) => (hour >= 20 ? w * 1.12 : w));
const MONDAY = WEEKDAY.map((w, hour) => (hour <= 3 ? w * 0.75 : w));
const SATURDAY = [
  4.6, 4.0, 3.2, 2.3, 1.5, 0.8, 0.7, 1.0, 1.6, 2.5, 3.4, 4.2, 4.7, 4.9, 4.9, 4.9, 4.8, 5.2, 5.6, 5.6, 5.3, 5.5, 5.8,
  5.7,
];
const SUNDAY = [
  5.2, 4.6, 3.7, 2.7, 1.8, 0.9, 0.7, 0.8, 1.3, 2.2, 3.1, 3.9, 4.4, 4.5, 4.6, 4.6, 4.5, 4.6, 4.6, 4.2, 3.8, 3.4, 2.8,
  2.1,
];
// A Monday holiday: Sunday's daytime shape without Saturday night's small hours.
const HOLIDAY = SUNDAY.map((w, hour) => (hour <= 4 ? w * 0.55 : w));
// New Year's Day: the longest night of the year, then a slow Sunday-like day.
const NEW_YEARS_DAY = SUNDAY.map((w, hour) => (hour <= 4 ? w * 1.6 : w));

/** Daily volume by day of week, Sunday = 0. */
const DAY_OF_WEEK_VOLUME = [0.93, 0.9, 0.98, 1.0, 1.06, 1.08, 1.08];

// Weekday (morning rush, midday crawl) and weekend mph for a short Manhattan trip.
const WEEKDAY_SPEED = [
  16, 17, 18, 18, 18, 16, 13, 10, 8.6, 8.6, 8.6, 8.6, 8.8, 8.8, 8.7, 8.5, 8.6, 8.4, 8.6, 9.5, 11, 12, 13, 14.5,
];
const WEEKEND_SPEED = [
  14.5, 15.5, 16.5, 17.5, 18, 18, 18, 17, 15, 13, 11.5, 10.5, 10, 9.8, 9.8, 9.8, 10, 10.5, 11, 11.5, 12, 12.5, 13, 13.5,
];

interface DayShape {
  hours: readonly number[];
  volume: number;
  weekendTraffic: boolean;
  /** Multiplies every hour of `hours`; per-hour adjustments for weather. */
  hourFactor?: (hour: number) => number;
  speedFactor?: number;
}

function dayShape(day: number): DayShape {
  const date = new Date((SAMPLE_EPOCH_SECONDS + day * 86400) * 1000);
  const month = date.getUTCMonth() + 1;
  const dom = date.getUTCDate();
  const dow = date.getUTCDay();
  const volume = DAY_OF_WEEK_VOLUME[dow] ?? 1;
  if (month === 1 && dom === 1) return { hours: NEW_YEARS_DAY, volume: 0.9, weekendTraffic: true };
  // Martin Luther King Jr. Day (Jan 18) and Presidents' Day (Feb 15).
  if ((month === 1 && dom === 18) || (month === 2 && dom === 15)) {
    return { hours: HOLIDAY, volume: 0.86, weekendTraffic: true };
  }
  if (month === 1 && dom === 23) {
    // Blizzard Jonas: snow all day, travel ban from 2:30 pm.
    return {
      hours: SATURDAY,
      volume,
      weekendTraffic: true,
      hourFactor: (hour) => (hour < 12 ? 0.7 : hour < 15 ? 0.4 : 0.08),
      speedFactor: 0.6,
    };
  }
  if (month === 1 && dom === 24) {
    // Ban lifted at 7 am; streets still half plowed.
    return { hours: SUNDAY, volume, weekendTraffic: true, hourFactor: (h) => (h < 7 ? 0.15 : 0.75), speedFactor: 0.8 };
  }
  if (month === 1 && dom === 25) return { hours: MONDAY, volume, weekendTraffic: false, speedFactor: 0.9 };
  const hours = dow === 0 ? SUNDAY : dow === 6 ? SATURDAY : dow === 5 ? FRIDAY : dow === 1 ? MONDAY : WEEKDAY;
  return { hours, volume, weekendTraffic: dow === 0 || dow === 6 };
}

export interface DemandTables {
  /** Cumulative relative trip volume per hour slot (day * 24 + hour), for sampling a pickup hour. */
  slotCumulative: Float64Array;
  /** Typical door-to-door mph of a short trip starting in that slot. */
  slotSpeed: Float64Array;
}

export function buildDemandTables(): DemandTables {
  const slots = SAMPLE_DAYS * 24;
  const slotCumulative = new Float64Array(slots);
  const slotSpeed = new Float64Array(slots);
  let total = 0;
  for (let day = 0; day < SAMPLE_DAYS; day++) {
    const shape = dayShape(day);
    const hourSum = shape.hours.reduce((sum, w) => sum + w, 0);
    const speeds = shape.weekendTraffic ? WEEKEND_SPEED : WEEKDAY_SPEED;
    for (let hour = 0; hour < 24; hour++) {
      const weight = ((shape.hours[hour] ?? 0) / hourSum) * shape.volume * (shape.hourFactor?.(hour) ?? 1);
      total += weight;
      slotCumulative[day * 24 + hour] = total;
      slotSpeed[day * 24 + hour] = (speeds[hour] ?? 12) * (shape.speedFactor ?? 1);
    }
  }
  return { slotCumulative, slotSpeed };
}
