import type { FunctionContext } from '../../services/functions/function-context.ts';
import type { FunctionEvent } from '../../services/functions/function-event.ts';

/** Normalized name of the SAP Commerce Cloud OCC API as the commerce system registers it. */
export const COMMERCE_SERVICE = 'sap-commerce-cloud-commerce-webservices';

type OrderCreated = { orderCode?: unknown; baseSiteUid?: unknown; baseSiteId?: unknown };
type Price = { value?: number; currencyIso?: string };
type Order = { code?: string; totalPriceWithTax?: Price; totalPrice?: Price };

function readText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new Error(`order.created.v1 data has no ${field}`);
  }
  return value;
}

/**
 * Read the order of an `order.created.v1` event from the commerce OCC API (`GET
 * /rest/v2/{baseSiteId}/orders/{code}`) and publish `order.enriched.v1` with its total.
 */
export async function main(event: FunctionEvent, context: FunctionContext): Promise<{ orderCode: string; total: number }> {
  const data = (event.data ?? {}) as OrderCreated;
  const orderCode = readText(data.orderCode, 'orderCode');
  const baseSiteId = readText(data.baseSiteUid ?? data.baseSiteId, 'baseSiteUid');

  const commerce = context.gateway('commerce', COMMERCE_SERVICE);
  const response = await commerce(`/rest/v2/${encodeURIComponent(baseSiteId)}/orders/${encodeURIComponent(orderCode)}?fields=FULL`, {
    headers: { accept: 'application/json' },
  });
  if (!response.ok) {
    throw new Error(`commerce responded with ${response.status} for order ${orderCode}`);
  }
  const order = (await response.json()) as Order;
  const price = order.totalPriceWithTax ?? order.totalPrice;
  if (typeof price?.value !== 'number') {
    throw new Error(`order ${orderCode} has no total price`);
  }

  await context.publish({
    type: 'order.enriched.v1',
    source: 'order-enricher',
    datacontenttype: 'application/json',
    data: { orderCode, baseSiteId, total: price.value, currency: price.currencyIso },
  });
  context.log.info({ orderCode, total: price.value }, 'order enriched');
  return { orderCode, total: price.value };
}
