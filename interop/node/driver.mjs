#!/usr/bin/env node
// MQTT.js driver of the Tern interoperability runs. It follows the driver contract of
// interop/README.md: modes `suite`, `sub` and `pub`, JSON lines on standard output.
//
//   node interop/node/driver.mjs suite --client mqttjs-v5 --host 127.0.0.1 --port P [--ws-port W]
//   node interop/node/driver.mjs sub --client mqttjs-v5 --host H --port P --filter F --count N --timeout S [--qos Q] [--id ID]
//   node interop/node/driver.mjs pub --client mqttjs-v5 --host H --port P --topic T --qos Q --payload-hex X [--count N] [--props]
//
// Clients: `mqttjs-v3.1.1` (protocolVersion 4) and `mqttjs-v5` (protocolVersion 5).

import { AsyncLocalStorage } from 'node:async_hooks';
import mqtt from 'mqtt';

const CLIENTS = { 'mqttjs-v3.1.1': 4, 'mqttjs-v5': 5 };

// Bounds, in milliseconds.
const SCENARIO_TIMEOUT = 10_000; // one scenario, all included
const STEP_TIMEOUT = 5_000; // one subscribe / publish / expected message
const CONNECT_TIMEOUT = 3_000; // one CONNACK
const SILENCE = 1_000; // "nothing is received within 1 s"
const SUITE_BUDGET = 80_000; // the whole suite (the contract asks for under 90 s)

// Which scenario a piece of asynchronous work belongs to: work of a scenario that timed out may
// still be running, and must not open connections into the next one.
const scenarioContext = new AsyncLocalStorage();

// ---------------------------------------------------------------------------------------------
// Command line

function parseArgs(argv) {
  const [mode, ...rest] = argv;
  const opts = {};
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(arg)}`);
    const key = arg.slice(2);
    if (key === 'props') {
      opts.props = true;
      continue;
    }
    if (i + 1 >= rest.length) throw new Error(`${arg} needs a value`);
    opts[key] = rest[++i];
  }
  return { mode, opts };
}

function need(opts, key) {
  if (opts[key] === undefined) throw new Error(`--${key} is required`);
  return opts[key];
}

function int(opts, key, dflt) {
  const raw = opts[key] ?? dflt;
  if (raw === undefined) throw new Error(`--${key} is required`);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${key} must be a non-negative integer`);
  return n;
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// ---------------------------------------------------------------------------------------------
// Small asynchronous helpers, every one bounded in time

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

class Failure extends Error {}
class Skip extends Error {}

function check(cond, detail) {
  if (!cond) throw new Failure(detail);
}

const hex = (buf) => Buffer.from(buf ?? []).toString('hex');

function describePayload(buf) {
  const b = Buffer.from(buf ?? []);
  if (b.length <= 32) return `${b.length} bytes 0x${b.toString('hex')}`;
  return `${b.length} bytes starting 0x${b.subarray(0, 16).toString('hex')}`;
}

// A connection of one library client, with an inbox of received PUBLISH packets.
class Conn {
  constructor(client) {
    this.client = client;
    this.connack = null;
    this.inbox = [];
    this.waiters = [];
    this.closed = false;
    this.errors = [];
    this.received = []; // every packet received (cmd names), for keepalive checks
    client.on('error', (err) => this.errors.push(err));
    client.on('close', () => {
      this.closed = true;
    });
    client.on('packetreceive', (packet) => this.received.push(packet.cmd));
    client.on('message', (topic, payload, packet) => {
      const msg = { topic, payload: Buffer.from(payload), packet };
      this.inbox.push(msg);
      for (const w of [...this.waiters]) w();
    });
  }

  // Waits for the first message (not yet taken) satisfying pred, removes it from the inbox.
  next(pred = () => true, ms = STEP_TIMEOUT, what = 'a message') {
    return withTimeout(
      new Promise((resolve) => {
        const look = () => {
          const i = this.inbox.findIndex(pred);
          if (i >= 0) {
            const [msg] = this.inbox.splice(i, 1);
            this.waiters = this.waiters.filter((w) => w !== look);
            resolve(msg);
            return true;
          }
          return false;
        };
        if (!look()) this.waiters.push(look);
      }),
      ms,
      what,
    );
  }

  // Collects messages satisfying pred during ms milliseconds.
  async collect(pred, ms) {
    await sleep(ms);
    const got = this.inbox.filter(pred);
    this.inbox = this.inbox.filter((m) => !pred(m));
    return got;
  }

  async subscribe(filter, opts) {
    return withTimeout(this.client.subscribeAsync(filter, opts), STEP_TIMEOUT, `SUBACK for ${filter}`);
  }

  async unsubscribe(filter, opts) {
    return withTimeout(this.client.unsubscribeAsync(filter, opts), STEP_TIMEOUT, `UNSUBACK for ${filter}`);
  }

  async publish(topic, payload, opts) {
    return withTimeout(this.client.publishAsync(topic, payload, opts), STEP_TIMEOUT, `publish to ${topic}`);
  }

  async end() {
    if (this.closed) return;
    try {
      await withTimeout(this.client.endAsync(), 2_000, 'DISCONNECT');
    } catch {
      this.client.end(true);
    }
  }

  kill() {
    try {
      this.client.end(true);
    } catch {
      // already gone
    }
  }
}

// Connects, resolves with a Conn once the CONNACK is in; rejects on refusal, error or timeout.
function connect(url, options) {
  const client = mqtt.connect(url, {
    reconnectPeriod: 0,
    connectTimeout: CONNECT_TIMEOUT,
    ...options,
  });
  const conn = new Conn(client);
  return withTimeout(
    new Promise((resolve, reject) => {
      client.once('connect', (connack) => {
        conn.connack = connack;
        resolve(conn);
      });
      client.once('error', (err) => reject(err));
      client.once('close', () => reject(new Error('connection closed before CONNACK')));
    }),
    CONNECT_TIMEOUT + 500,
    'CONNACK',
  ).catch((err) => {
    conn.kill();
    const code = err.code !== undefined ? ` (code ${err.code})` : '';
    throw new Failure(`connect failed: ${err.message}${code}`);
  });
}

// ---------------------------------------------------------------------------------------------
// The standard property set of the cross-library runs

function standardProperties(client) {
  return {
    userProperties: { origin: client, k: 'v' },
    contentType: 'application/x-tern-interop',
    responseTopic: `interop/reply/${client}`,
    correlationData: Buffer.from(`corr-${client}`),
    payloadFormatIndicator: true,
    messageExpiryInterval: 300,
  };
}

// MQTT.js keeps user properties as an object whose repeated names hold arrays; this gives them
// back as an ordered list of pairs (pairs of one name stay in wire order; MQTT.js groups them).
function userPropertyPairs(up) {
  const pairs = [];
  for (const [name, value] of Object.entries(up ?? {})) {
    if (Array.isArray(value)) for (const v of value) pairs.push([name, String(v)]);
    else pairs.push([name, String(value)]);
  }
  return pairs;
}

function propertiesJson(props) {
  const out = {};
  if (!props) return out;
  if (props.userProperties !== undefined) out.user_property = userPropertyPairs(props.userProperties);
  if (props.contentType !== undefined) out.content_type = props.contentType;
  if (props.responseTopic !== undefined) out.response_topic = props.responseTopic;
  if (props.correlationData !== undefined) out.correlation_data_hex = hex(props.correlationData);
  if (props.payloadFormatIndicator !== undefined) {
    out.payload_format_indicator = props.payloadFormatIndicator ? 1 : 0;
  }
  if (props.messageExpiryInterval !== undefined) out.message_expiry_interval = props.messageExpiryInterval;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Suite

class Suite {
  constructor(client, host, port, wsPort) {
    this.client = client;
    this.version = CLIENTS[client];
    this.v5 = this.version === 5;
    this.url = `mqtt://${host}:${port}`;
    this.wsUrl = wsPort === undefined ? undefined : `ws://${host}:${wsPort}/mqtt`;
    this.open = [];
    this.current = null;
  }

  topic(scenario, rest = 't') {
    return `interop/${this.client}/${scenario}/${rest}`;
  }

  id(scenario, suffix = '') {
    return `${this.client}-${scenario}${suffix}`;
  }

  // Connection options for this client, clean start, given client id.
  options(clientId, extra = {}) {
    return { protocolVersion: this.version, clientId, clean: true, keepalive: 30, ...extra };
  }

  async connect(clientId, extra = {}, url = this.url) {
    const owner = scenarioContext.getStore();
    if (owner !== this.current) throw new Error('scenario already over');
    const conn = await connect(url, this.options(clientId, extra));
    if (owner !== this.current) {
      conn.kill();
      throw new Error('scenario already over');
    }
    this.open.push(conn);
    return conn;
  }

  async closeAll() {
    const open = this.open;
    this.open = [];
    await Promise.all(open.map((c) => c.end()));
  }

  requireV5() {
    if (!this.v5) throw new Skip('MQTT 5.0 feature; this client speaks 3.1.1');
  }

  // One subscriber that receives its own message at the given QoS.
  async roundtrip(scenario, qos, payload, conn = null) {
    const c = conn ?? (await this.connect(this.id(scenario)));
    const topic = this.topic(scenario);
    const granted = await c.subscribe(topic, { qos });
    check(granted[0]?.qos === qos, `SUBACK granted ${JSON.stringify(granted)} instead of QoS ${qos}`);
    await c.publish(topic, payload, { qos });
    const msg = await c.next((m) => m.topic === topic, STEP_TIMEOUT, `own message on ${topic}`);
    check(
      msg.payload.equals(payload),
      `payload differs: sent ${describePayload(payload)}, received ${describePayload(msg.payload)}`,
    );
    check(msg.packet.qos === qos, `received at QoS ${msg.packet.qos}, expected ${qos}`);
    return c;
  }

  scenarios() {
    return [
      ['connect', () => this.connectScenario()],
      ['connect-credentials', () => this.connectCredentials()],
      ['qos0-roundtrip', () => this.roundtrip('qos0-roundtrip', 0, Buffer.from('hello'))],
      ['qos1-roundtrip', () => this.roundtrip('qos1-roundtrip', 1, Buffer.from('hello'))],
      ['qos2-roundtrip', () => this.roundtrip('qos2-roundtrip', 2, Buffer.from('hello'))],
      ['qos1-roundtrip-empty', () => this.roundtrip('qos1-roundtrip-empty', 1, Buffer.alloc(0))],
      ['qos2-roundtrip-1byte', () => this.roundtrip('qos2-roundtrip-1byte', 2, Buffer.from([0]))],
      ['qos2-roundtrip-256k', () => this.roundtrip('qos2-roundtrip-256k', 2, pattern(262144))],
      ['retained', () => this.retained()],
      ['will', () => this.will()],
      ['persistent-session', () => this.persistentSession()],
      ['unsubscribe', () => this.unsubscribeScenario()],
      ['keepalive', () => this.keepalive()],
      ['v5-user-properties', () => this.userProperties()],
      ['v5-message-expiry', () => this.messageExpiry()],
      ['v5-topic-alias', () => this.topicAlias()],
      ['v5-request-response', () => this.requestResponse()],
      ['v5-subscription-identifiers', () => this.subscriptionIdentifiers()],
      ['v5-refused-subscription', () => this.refusedSubscription()],
      ['websocket', () => this.websocket()],
    ];
  }

  async run() {
    const deadline = Date.now() + SUITE_BUDGET;
    for (const [name, body] of this.scenarios()) {
      let result = 'pass';
      let detail = '';
      const token = { name };
      this.current = token;
      try {
        const budget = Math.min(SCENARIO_TIMEOUT, deadline - Date.now());
        if (budget <= 0) throw new Failure('not run: the suite used up its 80 s budget');
        await withTimeout(
          scenarioContext.run(token, () => Promise.resolve().then(body)),
          budget,
          `scenario ${name}`,
        );
      } catch (err) {
        if (err instanceof Skip) {
          result = 'skip';
          detail = err.message;
        } else {
          result = 'fail';
          detail = err instanceof Failure ? err.message : `${err.name}: ${err.message}`;
        }
      }
      const errors = this.open.flatMap((c) => c.errors.map((e) => e.message));
      if (result === 'fail' && errors.length > 0) detail += ` [client errors: ${errors.join('; ')}]`;
      await withTimeout(this.closeAll(), 3_000, 'closing clients').catch(() => {
        for (const c of this.open) c.kill();
        this.open = [];
      });
      this.current = null;
      emit({ client: this.client, scenario: name, result, detail });
    }
  }

  // --- scenarios --------------------------------------------------------------------------

  async connectScenario() {
    const c = await this.connect(this.id('connect'));
    const code = this.v5 ? c.connack.reasonCode : c.connack.returnCode;
    check(!code, `CONNACK code ${code}`);
  }

  async connectCredentials() {
    const c = await this.connect(this.id('connect-credentials'), {
      username: 'interop',
      password: 'secret',
    });
    const code = this.v5 ? c.connack.reasonCode : c.connack.returnCode;
    check(!code, `CONNACK code ${code}`);
  }

  async retained() {
    const scenario = 'retained';
    const topic = this.topic(scenario);
    const pub = await this.connect(this.id(scenario, '-pub'));
    try {
      await pub.publish(topic, 'hello', { qos: 1, retain: true });
      const s1 = await this.connect(this.id(scenario, '-sub1'));
      await s1.subscribe(topic, { qos: 1 });
      const msg = await s1.next((m) => m.topic === topic, STEP_TIMEOUT, 'the retained message');
      check(msg.payload.toString() === 'hello', `retained payload ${describePayload(msg.payload)}`);
      check(msg.packet.retain === true, 'retained message delivered without the retain flag');
      await s1.end();

      await pub.publish(topic, Buffer.alloc(0), { qos: 1, retain: true });
      const s2 = await this.connect(this.id(scenario, '-sub2'));
      await s2.subscribe(topic, { qos: 1 });
      const late = await s2.collect((m) => m.topic === topic, SILENCE);
      check(
        late.length === 0,
        `after clearing, a new subscriber still got ${late.length} message(s): ${late
          .map((m) => describePayload(m.payload))
          .join(', ')}`,
      );
    } finally {
      // Leave no retained message behind, whatever happened.
      if (!pub.closed) await pub.publish(topic, Buffer.alloc(0), { qos: 1, retain: true }).catch(() => {});
    }
  }

  async will() {
    const scenario = 'will';
    const topic = this.topic(scenario);
    const b = await this.connect(this.id(scenario, '-b'));
    await b.subscribe(topic, { qos: 1 });
    const a = await this.connect(this.id(scenario, '-a'), {
      will: { topic, payload: Buffer.from('gone'), qos: 1, retain: false },
    });
    // Abrupt close: no DISCONNECT, the TCP stream is destroyed under the library.
    a.client.stream.destroy();
    const msg = await b.next((m) => m.topic === topic, STEP_TIMEOUT, 'the will message');
    check(msg.payload.toString() === 'gone', `will payload ${describePayload(msg.payload)}`);
  }

  async persistentSession() {
    const scenario = 'persistent-session';
    const topic = this.topic(scenario);
    const id = this.id(scenario);
    const persistent = this.v5
      ? { clean: false, properties: { sessionExpiryInterval: 300 } }
      : { clean: false };
    // Start from nothing: a clean connection drops any session left by an earlier run.
    await (await this.connect(id)).end();

    const s1 = await this.connect(id, this.v5 ? { clean: true, properties: { sessionExpiryInterval: 300 } } : persistent);
    await s1.subscribe(topic, { qos: 1 });
    await s1.end();

    const pub = await this.connect(this.id(scenario, '-pub'));
    const sent = [
      [Buffer.from('m1'), 1],
      [Buffer.from('m2'), 2],
      [Buffer.from('m3'), 1],
    ];
    for (const [payload, qos] of sent) await pub.publish(topic, payload, { qos });
    await pub.end();

    try {
      const s2 = await this.connect(id, persistent);
      check(s2.connack.sessionPresent === true, 'reconnect without clean start: session present is 0');
      const got = [];
      for (let i = 0; i < sent.length; i++) {
        got.push(await s2.next((m) => m.topic === topic, STEP_TIMEOUT, `queued message ${i + 1} of 3`));
      }
      const payloads = got.map((m) => m.payload.toString());
      check(
        JSON.stringify(payloads) === JSON.stringify(['m1', 'm2', 'm3']),
        `received ${JSON.stringify(payloads)} instead of ["m1","m2","m3"]`,
      );
      await s2.end();
    } finally {
      // Drop the session so that nothing stays queued on the broker.
      const cleanup = await this.connect(id).catch(() => null);
      if (cleanup) await cleanup.end();
    }
  }

  async unsubscribeScenario() {
    const scenario = 'unsubscribe';
    const topic = this.topic(scenario);
    const c = await this.roundtrip(scenario, 1, Buffer.from('before'));
    await c.unsubscribe(topic);
    await c.publish(topic, 'after', { qos: 1 });
    const late = await c.collect((m) => m.topic === topic, SILENCE);
    check(late.length === 0, `after UNSUBSCRIBE, ${late.length} message(s) still arrived`);
  }

  async keepalive() {
    const scenario = 'keepalive';
    const c = await this.connect(this.id(scenario), { keepalive: 2 });
    const ska = c.connack.properties?.serverKeepAlive;
    check(ska === undefined || ska === 2, `server keep alive ${ska} instead of the requested 2 s`);
    const before = c.received.filter((cmd) => cmd === 'pingresp').length;
    await sleep(5_000);
    check(!c.closed, 'connection closed while idle with keep alive 2 s');
    const pings = c.received.filter((cmd) => cmd === 'pingresp').length - before;
    check(pings >= 1, 'no PINGRESP received during 5 s idle with keep alive 2 s');
    await this.roundtrip(scenario, 1, Buffer.from('hello'), c);
  }

  async userProperties() {
    this.requireV5();
    const scenario = 'v5-user-properties';
    const topic = this.topic(scenario);
    const c = await this.connect(this.id(scenario));
    await c.subscribe(topic, { qos: 1 });
    // Two pairs with one repeated name; MQTT.js writes the array in order.
    const sentPairs = [
      ['k', 'v1'],
      ['k', 'v2'],
    ];
    await c.publish(topic, 'hello', { qos: 1, properties: { userProperties: { k: ['v1', 'v2'] } } });
    const msg = await c.next((m) => m.topic === topic);
    const got = userPropertyPairs(msg.packet.properties?.userProperties);
    check(
      JSON.stringify(got) === JSON.stringify(sentPairs),
      `user properties ${JSON.stringify(got)} instead of ${JSON.stringify(sentPairs)}`,
    );
  }

  async messageExpiry() {
    this.requireV5();
    const scenario = 'v5-message-expiry';
    const topic = this.topic(scenario, 'live');
    const rtopic = this.topic(scenario, 'retained');
    const c = await this.connect(this.id(scenario));
    await c.subscribe(topic, { qos: 1 });
    await c.publish(topic, 'hello', { qos: 1, properties: { messageExpiryInterval: 60 } });
    const msg = await c.next((m) => m.topic === topic);
    const exp = msg.packet.properties?.messageExpiryInterval;
    check(exp !== undefined, 'message expiry interval missing on delivery');
    check(exp <= 60, `message expiry interval ${exp} > 60`);

    try {
      await c.publish(rtopic, 'short-lived', {
        qos: 1,
        retain: true,
        properties: { messageExpiryInterval: 1 },
      });
      await sleep(2_500);
      const late = await this.connect(this.id(scenario, '-late'));
      await late.subscribe(rtopic, { qos: 1 });
      const got = await late.collect((m) => m.topic === rtopic, SILENCE);
      check(
        got.length === 0,
        `retained message with expiry 1 delivered 2.5 s later (expiry ${got[0]?.packet.properties?.messageExpiryInterval})`,
      );
    } finally {
      if (!c.closed) await c.publish(rtopic, Buffer.alloc(0), { qos: 1, retain: true }).catch(() => {});
    }
  }

  async topicAlias() {
    this.requireV5();
    const scenario = 'v5-topic-alias';
    const topic = this.topic(scenario);
    const c = await this.connect(this.id(scenario));
    const max = c.connack.properties?.topicAliasMaximum ?? 0;
    check(max >= 1, `CONNACK Topic Alias Maximum is ${max}: the broker accepts no topic alias`);
    await c.subscribe(topic, { qos: 1 });
    // First PUBLISH: topic name and alias 1; second: empty topic name, alias 1 only.
    await c.publish(topic, 'first', { qos: 1, properties: { topicAlias: 1 } });
    await c.publish('', 'second', { qos: 1, properties: { topicAlias: 1 } });
    const m1 = await c.next((m) => m.payload.toString() === 'first', STEP_TIMEOUT, 'the message sent with topic and alias');
    const m2 = await c.next((m) => m.payload.toString() === 'second', STEP_TIMEOUT, 'the message sent with the alias only');
    check(m1.topic === topic, `first message delivered on ${JSON.stringify(m1.topic)}`);
    check(m2.topic === topic, `alias-only message delivered on ${JSON.stringify(m2.topic)}`);
  }

  async requestResponse() {
    this.requireV5();
    const scenario = 'v5-request-response';
    const reqTopic = this.topic(scenario, 'request');
    const respTopic = this.topic(scenario, 'response');
    const corr = Buffer.from([0x00, 0x01, 0xfe, 0xff, 0x63, 0x6f, 0x72, 0x72]);

    const responder = await this.connect(this.id(scenario, '-responder'));
    await responder.subscribe(reqTopic, { qos: 1 });
    const requester = await this.connect(this.id(scenario, '-requester'));
    await requester.subscribe(respTopic, { qos: 1 });

    await requester.publish(reqTopic, 'ping', {
      qos: 1,
      properties: { responseTopic: respTopic, correlationData: corr },
    });
    const req = await responder.next((m) => m.topic === reqTopic, STEP_TIMEOUT, 'the request');
    const rt = req.packet.properties?.responseTopic;
    const cd = req.packet.properties?.correlationData;
    check(rt === respTopic, `request response topic ${JSON.stringify(rt)} instead of ${JSON.stringify(respTopic)}`);
    check(cd !== undefined && Buffer.from(cd).equals(corr), `request correlation data 0x${hex(cd)} instead of 0x${hex(corr)}`);

    await responder.publish(rt, 'pong', { qos: 1, properties: { correlationData: cd } });
    const resp = await requester.next((m) => m.topic === respTopic, STEP_TIMEOUT, 'the response');
    check(resp.payload.toString() === 'pong', `response payload ${describePayload(resp.payload)}`);
    const rcd = resp.packet.properties?.correlationData;
    check(rcd !== undefined && Buffer.from(rcd).equals(corr), `response correlation data 0x${hex(rcd)} instead of 0x${hex(corr)}`);
  }

  async subscriptionIdentifiers() {
    this.requireV5();
    const scenario = 'v5-subscription-identifiers';
    const topic = this.topic(scenario, 'a');
    const c = await this.connect(this.id(scenario));
    await c.subscribe(topic, { qos: 1, properties: { subscriptionIdentifier: 7 } });
    await c.subscribe(this.topic(scenario, '+'), { qos: 1, properties: { subscriptionIdentifier: 9 } });
    await c.publish(topic, 'hello', { qos: 1 });
    const first = await c.next((m) => m.topic === topic, STEP_TIMEOUT, 'the message');
    // The server may send one copy carrying both identifiers, or one copy per subscription:
    // give a second copy time to arrive.
    const rest = await c.collect((m) => m.topic === topic, 700);
    const delivered = [first, ...rest];
    const ids = (m) => {
      const v = m.packet.properties?.subscriptionIdentifier;
      return v === undefined ? [] : Array.isArray(v) ? v : [v];
    };
    const perCopy = delivered.map(ids);
    const union = [...new Set(perCopy.flat())].sort((x, y) => x - y);
    check(
      JSON.stringify(union) === '[7,9]',
      `copies carried identifiers ${JSON.stringify(perCopy)}; expected 7 and 9 in all`,
    );
    if (delivered.length === 1) {
      check(perCopy[0].length === 2, `one copy with identifiers ${JSON.stringify(perCopy[0])}`);
    } else {
      check(
        delivered.length === 2 && perCopy.every((l) => l.length === 1),
        `${delivered.length} copies with identifiers ${JSON.stringify(perCopy)}`,
      );
    }
  }

  async refusedSubscription() {
    this.requireV5();
    const scenario = 'v5-refused-subscription';
    const c = await this.connect(this.id(scenario));
    let granted;
    try {
      granted = await c.subscribe('interop/denied', { qos: 1 });
    } catch (err) {
      // MQTT.js turns a SUBACK failure code into an error carrying the SUBACK packet.
      const codes = err.packet?.granted;
      if (!Array.isArray(codes)) throw err;
      const shown = codes.map((rc) => `0x${rc.toString(16).padStart(2, '0')}`).join(', ');
      check(codes.length === 1 && codes[0] === 0x87, `SUBACK reason code(s) ${shown} instead of 0x87`);
      return;
    }
    throw new Failure(`subscription accepted: SUBACK ${JSON.stringify(granted)}`);
  }

  async websocket() {
    if (this.wsUrl === undefined) throw new Skip('no --ws-port given');
    const scenario = 'websocket';
    const c = await this.connect(this.id(scenario), {}, this.wsUrl);
    await this.roundtrip(scenario, 1, Buffer.from('hello'), c);
  }
}

function pattern(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

// ---------------------------------------------------------------------------------------------
// sub and pub

async function sub(opts) {
  const client = need(opts, 'client');
  const version = CLIENTS[client];
  const filter = need(opts, 'filter');
  const count = int(opts, 'count');
  const timeout = int(opts, 'timeout');
  const qos = int(opts, 'qos', 2);
  const url = `mqtt://${need(opts, 'host')}:${need(opts, 'port')}`;
  const clientId = opts.id ?? `${client}-sub-${process.pid}`;
  const deadline = Date.now() + timeout * 1000;

  const conn = await connect(url, { protocolVersion: version, clientId, clean: true, keepalive: 30 });
  let received = 0;
  let finish;
  const finished = new Promise((resolve) => {
    finish = resolve;
  });
  conn.client.on('message', (topic, payload, packet) => {
    if (received >= count) return;
    received++;
    emit({
      event: 'message',
      topic,
      qos: packet.qos,
      retain: !!packet.retain,
      payload_hex: hex(payload),
      properties: version === 5 ? propertiesJson(packet.properties) : {},
    });
    if (received >= count) finish();
  });
  conn.client.on('close', () => finish());
  const granted = await conn.subscribe(filter, { qos });
  if (!granted.length || granted[0].qos >= 0x80) {
    throw new Error(`subscription refused: ${JSON.stringify(granted)}`);
  }
  emit({ event: 'ready' });
  if (count > 0) {
    const left = Math.max(0, deadline - Date.now());
    const timer = setTimeout(finish, left);
    await finished;
    clearTimeout(timer);
  }
  emit({ event: 'done', received });
  await conn.end();
}

async function pub(opts) {
  const client = need(opts, 'client');
  const version = CLIENTS[client];
  const topic = need(opts, 'topic');
  const qos = int(opts, 'qos');
  const count = int(opts, 'count', 1);
  const payloadHex = need(opts, 'payload-hex');
  if (!/^([0-9a-fA-F]{2})*$/.test(payloadHex)) throw new Error('--payload-hex is not hexadecimal');
  const payload = Buffer.from(payloadHex, 'hex');
  const url = `mqtt://${need(opts, 'host')}:${need(opts, 'port')}`;
  if (opts.props && version !== 5) throw new Error('--props needs a v5 client');

  const conn = await connect(url, {
    protocolVersion: version,
    clientId: opts.id ?? `${client}-pub-${process.pid}`,
    clean: true,
    keepalive: 30,
  });
  const publishOpts = { qos };
  if (opts.props) publishOpts.properties = standardProperties(client);
  const pending = [];
  for (let i = 0; i < count; i++) {
    const body = count > 1 ? Buffer.concat([payload, Buffer.from([i & 0xff])]) : payload;
    // Fresh options each time: MQTT.js may alter the properties object it is given.
    const o = { ...publishOpts };
    if (o.properties) o.properties = standardProperties(client);
    pending.push(conn.publish(topic, body, o));
  }
  await Promise.all(pending);
  emit({ event: 'published', count });
  await conn.end();
}

// ---------------------------------------------------------------------------------------------

async function main() {
  // Work left running by a timed-out scenario may reject later: note it, do not die.
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`driver.mjs: late rejection: ${err?.message ?? err}\n`);
  });
  const { mode, opts } = parseArgs(process.argv.slice(2));
  const client = need(opts, 'client');
  if (!(client in CLIENTS)) {
    throw new Error(`unknown client ${client}; this driver knows ${Object.keys(CLIENTS).join(', ')}`);
  }
  switch (mode) {
    case 'suite': {
      const suite = new Suite(client, need(opts, 'host'), int(opts, 'port'), opts['ws-port']);
      await suite.run();
      break;
    }
    case 'sub':
      await sub(opts);
      break;
    case 'pub':
      await pub(opts);
      break;
    default:
      throw new Error(`unknown mode ${JSON.stringify(mode)}: suite, sub or pub`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`driver.mjs: ${err.stack ?? err}\n`);
    process.exit(1);
  },
);
