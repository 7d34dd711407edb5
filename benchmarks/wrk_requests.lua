-- wrk sends prepared requests, each once: a file of lines "path<TAB>header: value<TAB>...",
-- shared among wrk's threads by line number (a DPoP proof must not be sent twice). A line may
-- start "METHOD path" (GET otherwise) and end with a JSON body (a field starting with "{"). When a
-- thread runs out, it repeats its last request, which the gateway refuses: the summary counts
-- such answers as errors, so a run that ran dry is visible.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  local path, count = args[1], tonumber(args[2])
  mine = {}
  local n = 0
  for line in io.lines(path) do
    if n % count == id then
      local fields = {}
      for field in string.gmatch(line, "[^\t]+") do table.insert(fields, field) end
      local headers, body = {}, nil
      for i = 2, #fields do
        if string.sub(fields[i], 1, 1) == "{" then
          body = fields[i]
        else
          local name, value = string.match(fields[i], "^([^:]+): (.*)$")
          headers[name] = value
        end
      end
      local method, target = string.match(fields[1], "^(%u+) (.*)$")
      table.insert(mine, wrk.format(method or "GET", target or fields[1], headers, body))
    end
    n = n + 1
  end
  position = 0
end

function request()
  position = position + 1
  if position > #mine then position = #mine end
  return mine[position]
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, errors, latency:percentile(50), latency:percentile(99)))
end
