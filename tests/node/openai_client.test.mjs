// hiro's gateway as the official OpenAI client sees it. Started by
// tests/server/openai_client_test.cpp, which runs llama-server and hiro and
// passes HIRO_BASE_URL and HIRO_API_KEY.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.HIRO_BASE_URL, apiKey: process.env.HIRO_API_KEY, maxRetries: 0 });
const messages = [{ role: 'user', content: 'Once upon a time' }];

test('chat completion through a cascade carries the hiro trace', async () => {
  const r = await client.chat.completions.create({ model: 'hiro-cascade', messages, max_tokens: 8 });
  assert.equal(r.object, 'chat.completion');
  assert.ok(r.choices[0].message.content.length > 0);
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 8);
  assert.equal(r.hiro.route, 'hiro-cascade');
  assert.equal(r.hiro.answered_by, 'cloud');
  assert.equal(r.hiro.tiers[0].outcome, 'rejected');
});

test('streaming chat yields deltas, then the trace, then ends', async () => {
  const stream = await client.chat.completions.create({ model: 'hiro-cascade', messages, max_tokens: 8, stream: true });
  let content = '';
  let last;
  for await (const chunk of stream) {
    content += chunk.choices[0]?.delta?.content ?? '';
    last = chunk;
  }
  const whole = await client.chat.completions.create({ model: 'hiro-cascade', messages, max_tokens: 8 });
  assert.equal(content, whole.choices[0].message.content);
  assert.equal(last.choices[0].finish_reason, 'length');
  assert.equal(last.hiro.answered_by, 'cloud');
});

test('legacy completions with logprobs', async () => {
  const r = await client.completions.create({ model: 'edge', prompt: 'Once upon a time', max_tokens: 4, logprobs: 2 });
  assert.ok(r.choices[0].text.length > 0);
  assert.equal(r.choices[0].logprobs.content.length, 4);
  assert.ok(r.choices[0].logprobs.content.every((t) => t.logprob <= 0));
});

test('models lists tiers and policies', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids.sort(), ['caller', 'cloud', 'edge', 'hiro-cascade']);
});

test('a JSON schema answer parses and matches it', async () => {
  const schema = { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] };
  const r = await client.chat.completions.create({
    model: 'edge', messages, max_tokens: 40, temperature: 0,
    response_format: { type: 'json_schema', json_schema: { name: 'a', schema } },
  });
  const answer = JSON.parse(r.choices[0].message.content);
  assert.equal(typeof answer.a, 'number');
  assert.ok(Number.isInteger(answer.a));
});

test('n choices, each with its logprobs and top_logprobs', async () => {
  const r = await client.chat.completions.create({ model: 'edge', messages, max_tokens: 4, temperature: 0, n: 2, logprobs: true, top_logprobs: 2 });
  assert.equal(r.choices.length, 2);
  for (const c of r.choices) {
    assert.equal(c.logprobs.content.length, 4);
    assert.ok(c.logprobs.content.every((t) => t.top_logprobs.length === 2 && Array.isArray(t.bytes)));
  }
});

test('a stream with include_usage ends with the usage chunk', async () => {
  const stream = await client.chat.completions.create({
    model: 'edge', messages, max_tokens: 6, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let usage;
  for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
  assert.equal(usage.completion_tokens, 6);
});

test('a tool call round trip', async () => {
  const tools = [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const first = await client.chat.completions.create({ model: 'caller', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools });
  assert.equal(first.choices[0].finish_reason, 'tool_calls');
  const call = first.choices[0].message.tool_calls[0];
  assert.equal(call.function.name, 'weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
  const follow = await client.chat.completions.create({
    model: 'edge', max_tokens: 4, temperature: 0, tools, tool_choice: 'none',
    messages: [{ role: 'user', content: 'Weather in Paris?' }, first.choices[0].message,
               { role: 'tool', tool_call_id: call.id, content: '18 C, sunny' }],
  });
  assert.ok(follow.choices[0].message.content.length > 0);
});

test('a tool call streamed in pieces adds up', async () => {
  const stream = await client.chat.completions.create({ model: 'caller', messages: [{ role: 'user', content: 'Weather?' }], stream: true });
  let name = '', args = '', finish;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      for (const t of c.delta?.tool_calls ?? []) { name += t.function?.name ?? ''; args += t.function?.arguments ?? ''; }
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.equal(name, 'weather');
  assert.deepEqual(JSON.parse(args), { city: 'Paris' });
  assert.equal(finish, 'tool_calls');
});

test('an unknown model is a NotFoundError naming what exists', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'gpt-9', messages }), (e) => {
    assert.ok(e instanceof OpenAI.NotFoundError);
    assert.match(e.message, /unknown model 'gpt-9'.*hiro-cascade/);
    return true;
  });
});

test('a bad request is a BadRequestError', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'edge', messages: [] }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError);
    assert.match(e.message, /messages/);
    return true;
  });
});

test('a wrong API key is an AuthenticationError', async () => {
  const wrong = new OpenAI({ baseURL: process.env.HIRO_BASE_URL, apiKey: 'sk-wrong', maxRetries: 0 });
  await assert.rejects(wrong.chat.completions.create({ model: 'edge', messages }), OpenAI.AuthenticationError);
});
