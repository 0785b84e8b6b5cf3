/**
 * Usage example, type-checked with the client (`npx tsc --noEmit`): list a page of active
 * distributors in a region, then report sales figures for the first one.
 */
import { createChannelClient, type Problem, type Schemas } from "./src/index";

const client = createChannelClient({
  baseUrl: "http://127.0.0.1:8000",
  token: "csk_your-api-key",
});

function explain(problem: Problem): string {
  return `${problem.status} ${problem.title}: ${problem.detail ?? ""}`;
}

export async function reportSales(region: string): Promise<Schemas["IngestResult"] | undefined> {
  const partners = await client.GET("/api/v1/partners", {
    params: { query: { status: "active", type: "distributor", region, limit: 10 } },
  });
  if (partners.error) {
    throw new Error(explain(partners.error));
  }
  const first: Schemas["PartnerRead"] | undefined = partners.data.items[0];
  if (first === undefined) {
    return undefined;
  }

  const observations: Schemas["ObservationIn"][] = [
    { partner_id: first.id, kpi: "sales_amount", value: "125000.50", occurred_on: "2026-10-15" },
    { partner_id: first.id, kpi: "units_sold", value: 310, occurred_on: "2026-10-15" },
  ];
  const result = await client.POST("/api/v1/observations", { body: { observations } });
  if (result.error) {
    throw new Error(explain(result.error));
  }
  for (const rejection of result.data.rejected) {
    console.warn(`item ${rejection.index} rejected: ${rejection.code}`);
  }
  return result.data;
}

export async function partnerHealth(partnerId: string, period: string): Promise<string | null> {
  const { data, error } = await client.GET("/api/v1/scorecards/{partner_id}", {
    params: { path: { partner_id: partnerId }, query: { period } },
  });
  if (error) {
    throw new Error(explain(error));
  }
  return data.health_score;
}
