/**
 * Whether a day exists in the proleptic Gregorian calendar, the one ISO-8601 and Postgres use, counted with
 * astronomical years (1 BC is year 0, a leap year) so that dates before the common era check too. Date would
 * not say: it rolls 2016-02-30 over to March 1st, and ends in the year 275760.
 */
export function isCalendarDay(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  return day <= days;
}
