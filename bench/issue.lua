-- wrk script for bench/run.py: a kiosk issuing tickets (POST /api/tickets).
--
-- Environment:
--   HALL_TOKEN     the kiosk's device token (required)
--   HALL_RUN       a name unique to this wrk run, e.g. "warmup" or "measure"
--   HALL_SECTIONS  the section ids to cycle over, comma-separated (default A..G)
--
-- Every request carries request_id "<run>-<thread>-<n>": unique across wrk's
-- threads and across runs, so the server never answers with a replay.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  local token = os.getenv("HALL_TOKEN")
  if token == nil or token == "" then
    error("HALL_TOKEN is not set")
  end
  sections = {}
  for id in string.gmatch(os.getenv("HALL_SECTIONS") or "A,B,C,D,E,F,G", "[^,]+") do
    sections[#sections + 1] = id
  end
  prefix = (os.getenv("HALL_RUN") or "run") .. "-" .. thread_id .. "-"
  sent = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  sent = sent + 1
  local section = sections[(sent - 1) % #sections + 1]
  local body = string.format('{"section":"%s","request_id":"%s%d"}', section, prefix, sent)
  return wrk.format(nil, nil, nil, body)
end
