-- Shared by the bench's wrk scripts: per-thread status counts, the projection lag read
-- from each answer's Server-Timing header, and one JSON file written when wrk is done
-- (BENCH_OUT). Each thread gets a 0-based `id` in setup(); its data comes from BENCH_DATA.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

statuses = {}
lags = {}
lagging = 0
caught_up = 0
fallback = 0
samples = {}

function load_data()
  return dofile(os.getenv("BENCH_DATA"))
end

local function header(headers, wanted)
  for name, value in pairs(headers) do
    if string.lower(name) == wanted then
      return value
    end
  end
  return nil
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if (status < 200 or status > 299) and #samples < 5 then
    table.insert(samples, key .. " " .. string.sub(body or "", 1, 300))
  end
  local timing = header(headers, "server-timing")
  if timing then
    local dur = string.match(timing, "projections;dur=([%d%.]+)")
    if dur then
      table.insert(lags, tonumber(dur))
    end
  end
  local consistency = header(headers, "concord-consistency")
  if consistency == "lagging" then
    lagging = lagging + 1
  elseif consistency == "caught-up" then
    caught_up = caught_up + 1
  end
end

local function encode(value)
  local kind = type(value)
  if kind == "number" then
    return string.format("%.17g", value)
  elseif kind == "string" then
    return '"' .. value:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
    end) .. '"'
  elseif kind == "table" then
    if #value > 0 or next(value) == nil then
      local parts = {}
      for _, item in ipairs(value) do
        table.insert(parts, encode(item))
      end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local parts = {}
    for k, item in pairs(value) do
      table.insert(parts, encode(tostring(k)) .. ":" .. encode(item))
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return "null"
end

function done(summary, latency, requests)
  local out = {
    requests = summary.requests,
    duration_us = summary.duration,
    socket_errors = summary.errors,
    latency_ms = {
      mean = latency.mean / 1000,
      p50 = latency:percentile(50) / 1000,
      p99 = latency:percentile(99) / 1000,
      max = latency.max / 1000,
    },
    statuses = {},
    lags = {},
    lagging = 0,
    caught_up = 0,
    fallback = 0,
    samples = {},
  }
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses") or {}) do
      out.statuses[code] = (out.statuses[code] or 0) + count
    end
    for _, lag in ipairs(thread:get("lags") or {}) do
      table.insert(out.lags, lag)
    end
    for _, sample in ipairs(thread:get("samples") or {}) do
      table.insert(out.samples, sample)
    end
    out.lagging = out.lagging + (thread:get("lagging") or 0)
    out.caught_up = out.caught_up + (thread:get("caught_up") or 0)
    out.fallback = out.fallback + (thread:get("fallback") or 0)
  end
  local file = assert(io.open(os.getenv("BENCH_OUT"), "w"))
  file:write(encode(out))
  file:close()
end

local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pause then
  -- A fixed rate: each connection waits about `pause` ms before each request (jittered,
  -- so the connections do not move in step).
  function delay()
    return math.floor(pause * (0.5 + math.random()))
  end
end
