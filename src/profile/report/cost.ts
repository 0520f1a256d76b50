// Cost per million requests / input tokens from an hourly instance price, as the AWS Inferentia embedding
// benchmark tables present it: what serving a million of something costs at the measured throughput.

export function costPerMillion(costPerHour: number, perSecond: number): number | null {
  if (!(perSecond > 0)) return null;
  return (costPerHour / 3600 / perSecond) * 1e6;
}

export function formatCost(value: number | null): string {
  if (value === null) return '-';
  return value >= 1 ? `$${value.toFixed(2)}` : `$${value.toPrecision(3)}`;
}
