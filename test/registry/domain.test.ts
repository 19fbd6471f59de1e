import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { MAX_INLINED_NODES, createInlineContext, deriveEventCatalog, inlineLocalRefs, splitEventName } from '../../services/registry/domain/event-catalog.ts';
import { assertApplicationName, assertServiceRules, toStoredLabels } from '../../services/registry/domain/service-rules.ts';
import { compileRegistryValidators } from '../../services/registry/domain/service-schema.ts';
import { maskCredentials, MASK } from '../../services/registry/domain/service-view.ts';
import { SpecFormat, parseSpecText } from '../../services/registry/domain/spec-format.ts';
import { assertValid, toFieldPath } from '../../services/registry/domain/validation.ts';
import { InputError } from '../../shared/errors/errors.ts';
import { readFixture, serviceBody } from './harness.ts';

const validators = compileRegistryValidators();

function validationMessage(body: unknown): string {
  try {
    assertValid(validators.service, body);
  } catch (error) {
    assert.ok(error instanceof InputError);
    return error.message;
  }
  assert.fail('expected a validation error');
}

describe('splitEventName', () => {
  it('splits a trailing version', () => {
    assert.deepEqual(splitEventName('order.created.v1'), { type: 'order.created', version: 'v1' });
  });

  it('keeps capitalized dotted names', () => {
    assert.deepEqual(splitEventName('Account.Root.Created.v1'), { type: 'Account.Root.Created', version: 'v1' });
  });

  it('leaves names without version whole', () => {
    assert.deepEqual(splitEventName('order.created'), { type: 'order.created', version: '' });
    assert.deepEqual(splitEventName('v1'), { type: 'v1', version: '' });
  });
});

describe('deriveEventCatalog', () => {
  it('reads the 40 commerce events', async () => {
    const document = parseYaml(await readFixture('commerce-events-asyncapi1.yaml')) as Record<string, unknown>;
    const catalog = deriveEventCatalog(SpecFormat.AsyncApi1, document);

    assert.equal(catalog.length, 40);
    const created = catalog.find((event) => event.type === 'order.created');
    assert.equal(created?.version, 'v1');
    const customer = catalog.find((event) => event.type === 'customer.created');
    assert.deepEqual((customer?.schema as { required: string[] }).required, ['storeUid', 'customerId', 'customerUid']);
  });

  it('keeps the spelling of C4C names', async () => {
    const document = JSON.parse(await readFixture('c4c-events-asyncapi1.json')) as Record<string, unknown>;
    const types = deriveEventCatalog(SpecFormat.AsyncApi1, document).map((event) => `${event.type}/${event.version}`);

    assert.equal(types.length, 9);
    assert.ok(types.includes('Account.Root.Created/v1'));
    assert.ok(types.includes('Ticket.Root.Updated/v1'));
  });

  it('reads marketing events', async () => {
    const document = JSON.parse(await readFixture('marketing-events-asyncapi1.json')) as Record<string, unknown>;
    const types = deriveEventCatalog(SpecFormat.AsyncApi1, document).map((event) => event.type);

    assert.equal(types.length, 6);
    assert.ok(types.includes('bo.marketingcampaign.completed'));
  });

  it('resolves AsyncAPI 2 messages and payloads', async () => {
    const document = JSON.parse(await readFixture('s4-events-asyncapi2.json')) as Record<string, unknown>;
    const catalog = deriveEventCatalog(SpecFormat.AsyncApi2, document);

    assert.equal(catalog.length, 4);
    const created = catalog.find((event) => event.type === 'sap.s4.beh.salesorder.v1.SalesOrder.Created');
    assert.equal(created?.version, 'v1');
    assert.equal(typeof created?.schema, 'object');
    assert.equal(JSON.stringify(created?.schema).includes('$ref'), false);
  });

  it('names events after channels without message names', () => {
    const document = { asyncapi: '2.0.0', channels: { 'shop/order/created/v2': { publish: { message: { payload: { type: 'object' } } } } } };
    assert.deepEqual(deriveEventCatalog(SpecFormat.AsyncApi2, document), [
      { type: 'shop.order.created', version: 'v2', schema: { type: 'object' } },
    ]);
  });

  it('bounds reference expansion', () => {
    // Each level references the one below ten times, which would expand to 10^20 copies.
    const schemas: Record<string, unknown> = { level20: { type: 'string' } };
    for (let level = 0; level < 20; level++) {
      schemas[`level${level}`] = { type: 'array', items: Array.from({ length: 10 }, () => ({ $ref: `#/components/schemas/level${level + 1}` })) };
    }
    const context = createInlineContext({ components: { schemas } });
    const inlined = inlineLocalRefs({ $ref: '#/components/schemas/level0' }, context);

    assert.equal(context.remainingNodes, 0);
    assert.ok(JSON.stringify(inlined).length < MAX_INLINED_NODES * 200);
  });

  it('reads deeply nested specs', () => {
    let payload: Record<string, unknown> = { type: 'string' };
    for (let level = 0; level < 5000; level++) {
      payload = { type: 'object', properties: { child: payload } };
    }
    const catalog = deriveEventCatalog(SpecFormat.AsyncApi1, { asyncapi: '1.0.0', topics: { 'deep.v1': { subscribe: { payload } } } });
    assert.equal(catalog[0]?.type, 'deep');
  });

  it('stops at cyclic references', () => {
    const root = { components: { schemas: { node: { type: 'object', properties: { next: { $ref: '#/components/schemas/node' } } } } } };
    const inlined = inlineLocalRefs({ $ref: '#/components/schemas/node' }, createInlineContext(root)) as { properties: { next: unknown } };
    assert.deepEqual(inlined.properties.next, { $ref: '#/components/schemas/node' });
  });
});

describe('parseSpecText', () => {
  it('reads Swagger 2.0 YAML', async () => {
    const parsed = parseSpecText(await readFixture('commerce-occ-swagger2.yaml'));
    assert.ok(typeof parsed !== 'string');
    assert.equal(parsed.format, SpecFormat.Swagger2);
  });

  it('reads OpenAPI 3 JSON', async () => {
    const parsed = parseSpecText(await readFixture('marketplace-saas-openapi3.json'));
    assert.ok(typeof parsed !== 'string');
    assert.equal(parsed.format, SpecFormat.OpenApi3);
  });

  it('reads OData EDMX', async () => {
    const text = await readFixture('commerce-inbound-order-odata.edmx');
    const parsed = parseSpecText(text);
    assert.ok(typeof parsed !== 'string');
    assert.equal(parsed.format, SpecFormat.ODataEdmx);
  });

  it('rejects other documents', () => {
    assert.match(parseSpecText('<html><body>login</body></html>') as string, /not an OData EDMX/);
    assert.match(parseSpecText('{"hello": "world"}') as string, /not OpenAPI 3\.x/);
    assert.match(parseSpecText('- a\n- b') as string, /not a JSON or YAML object/);
    assert.match(parseSpecText('{"broken": ') as string, /neither valid JSON nor valid YAML/);
  });

  it('rejects deep nesting', () => {
    const text = '{"openapi":"3.0.0","x":' + '['.repeat(300) + ']'.repeat(300) + '}';
    assert.match(parseSpecText(text) as string, /nests deeper than 256 levels/);
  });

  it('bounds YAML alias expansion', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let level = 1; level < 200; level++) {
      lines.push(`l${level}: &l${level} [*${level === 1 ? 'a' : `l${level - 1}`}, *${level === 1 ? 'a' : `l${level - 1}`}]`);
    }
    assert.equal(typeof parseSpecText(lines.join('\n')), 'string');
  });
});

describe('service validation', () => {
  it('accepts a minimal service', () => {
    assert.doesNotThrow(() => assertValid(validators.service, serviceBody()));
  });

  it('names missing fields', () => {
    const message = validationMessage({ api: { targetUrl: 'https://x.example' } });
    assert.match(message, /provider is required/);
    assert.match(message, /name is required/);
    assert.match(message, /description is required/);
  });

  it('names wrong types with their path', () => {
    const message = validationMessage(serviceBody({ provider: 7, labels: { env: 1 }, api: { targetUrl: 'https://x.example', spec: 'openapi: 3.0.0' } }));
    assert.match(message, /provider must be of type string, got number 7/);
    assert.match(message, /labels\.env must be of type string/);
    assert.match(message, /api\.spec must be a JSON object, got 'openapi: 3\.0\.0'/);
  });

  it('requires absolute http(s) target URLs', () => {
    assert.match(validationMessage(serviceBody({ api: { targetUrl: 'ftp://x' } })), /api\.targetUrl must be an absolute http\(s\) URL, got 'ftp:\/\/x'/);
    assert.match(validationMessage(serviceBody({ api: { targetUrl: '/relative' } })), /api\.targetUrl must be an absolute http\(s\) URL/);
  });

  it('checks credential fields', () => {
    const message = validationMessage(
      serviceBody({
        api: {
          targetUrl: 'https://x.example',
          credentials: { oauth: { url: 'https://auth.example', clientId: 'id' }, basic: { username: 'u', csrfInfo: {} } },
        },
      }),
    );
    assert.match(message, /api\.credentials\.oauth\.clientSecret is required/);
    assert.match(message, /api\.credentials\.basic\.password is required/);
    assert.match(message, /api\.credentials\.basic\.csrfInfo\.tokenEndpointURL is required/);
  });

  it('names array positions', () => {
    const message = validationMessage(serviceBody({ documentation: { displayName: 'd', description: 'd', type: 't', docs: [{ title: 't' }] } }));
    assert.match(message, /documentation\.docs\[0\]\.type is required/);
    assert.equal(toFieldPath('/a/0/b~1c'), 'a[0].b/c');
  });
});

describe('service rules', () => {
  it('requires api or events', () => {
    assert.throws(() => assertServiceRules({ provider: 'p', name: 'n', description: 'd' }), /must have api or events/);
  });

  it('rejects two credential types', () => {
    const input = {
      provider: 'p',
      name: 'n',
      description: 'd',
      api: { targetUrl: 'https://x.example', credentials: { basic: { username: 'u', password: 'p' }, certificateGen: { commonName: 'c' } } },
    };
    assert.throws(() => assertServiceRules(input), /at most one of oauth, basic, certificateGen, got basic, certificateGen/);
  });

  it('rejects names without letters or digits', () => {
    assert.throws(() => assertServiceRules({ provider: 'p', name: '***', description: 'd', events: {} }), /at least one letter or digit/);
  });

  it('returns the normalized name', () => {
    assert.equal(assertServiceRules({ provider: 'p', name: 'Commerce Webservices v2', description: 'd', events: {} }), 'commerce-webservices-v2');
  });

  it('always sets connected-app', () => {
    assert.deepEqual(toStoredLabels('shop', { 'connected-app': 'other', env: 'prod' }), { 'connected-app': 'shop', env: 'prod' });
  });

  it('checks application names', () => {
    assert.doesNotThrow(() => assertApplicationName('commerce-1'));
    for (const name of ['Commerce', '-shop', 'shop-', 'a.b', '', 'x'.repeat(64), 'shop_1']) {
      assert.throws(() => assertApplicationName(name), InputError, name);
    }
  });
});

describe('maskCredentials', () => {
  it('masks secrets and drops the key', () => {
    assert.deepEqual(maskCredentials({ basic: { username: 'u', password: 'p' } }), { basic: { username: MASK, password: MASK } });
    const masked = maskCredentials({ certificateGen: { commonName: 'c', certificate: 'PEM', privateKey: 'KEY' } });
    assert.deepEqual(masked, { certificateGen: { commonName: 'c', certificate: 'PEM' } });
  });
});
