-- wrk script: complete USSD report sessions in Africa's Talking's wire format.
--
--   wrk -t16 -c16 -d20s -s bench/ussd-sessions.lua http://127.0.0.1:8080/ussd/africastalking
--
-- Use one connection per thread (-t equal to -c): wrk keeps one script state
-- per thread, so with several connections a thread would send consecutive
-- hops of one session at once, which no phone does.
--
-- Each hop posts sessionId, serviceCode, phoneNumber, networkCode and `text`:

-- every input of the session so far joined by `*` (empty on the dial). The
-- inputs are a volunteer's report in their own village (demo data), ending
-- with the confirmation that creates the case. Env: KANDA_BENCH_INPUTS to
-- change them, KANDA_BENCH_PHONES (default 3 demo volunteers' numbers).
-- Prints hops per second and p50/p95/p99 hop latency; counts non-CON/END replies.

local inputs_env = os.getenv("KANDA_BENCH_INPUTS") or "1*1*7*1*2*2*1*1*1*1"
local phones_env = os.getenv("KANDA_BENCH_PHONES") or "+250788000001"

local function split(s, sep)
  local out = {}
  for part in string.gmatch(s, "([^" .. sep .. "]+)") do out[#out + 1] = part end
  return out
end

local inputs = split(inputs_env, "*")
local phones = split(phones_env, ",")
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local function urlencode(s)
  return (string.gsub(s, "[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  session_no = 0
  started = os.time()  -- fixed per thread: a session's id must not change mid-session
  step = 0          -- 0 = dial, k = k inputs typed
  bad = 0
  ends = 0
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  if step == 0 then session_no = session_no + 1 end
  local text = table.concat(inputs, "*", 1, step)
  local phone = phones[(session_no % #phones) + 1]
  local body = "sessionId=wrk-" .. tid .. "-" .. started .. "-" .. session_no

    .. "&serviceCode=" .. urlencode("*384*123#")
    .. "&phoneNumber=" .. urlencode(phone)
    .. "&networkCode=63510&text=" .. urlencode(text)
  step = step + 1
  if step > #inputs then step = 0 end
  return wrk.format("POST", nil, nil, body)
end

function response(status, headers, body)
  local head = string.sub(body, 1, 4)
  if status ~= 200 or (head ~= "CON " and head ~= "END ") then
    bad = bad + 1
  elseif head == "END " then
    ends = ends + 1
  end
end

function done(summary, latency, requests)
  local total_bad, total_ends = 0, 0
  for _, t in ipairs(threads) do
    total_bad = total_bad + t:get("bad")
    total_ends = total_ends + t:get("ends")
  end
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT tool=wrk hops=%d elapsed_s=%.2f hops_per_s=%.0f p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f max_ms=%.3f end_screens=%d bad_replies=%d socket_errors=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    total_ends, total_bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
