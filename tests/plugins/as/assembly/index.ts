// A proxy-wasm plugin built with the public AssemblyScript SDK
// (@solo-io/proxy-runtime 0.1.8), unchanged from how one would write it for
// Envoy. tests/plugins/suite.sh builds it with asc and checks, through the
// real gateway:
//   * every response gets "x-as-hello: <plugin configuration>" (or "world")
//   * "x-as-deny: 1" on a request -> local reply 418 "denied by assemblyscript"
//   * every forwarded request gets "x-as-seen: yes"
//   * "x-as-callout: 1" pauses the request, calls cluster "as_callout" at /ok
//     then resumes it with "x-as-callout-status: <status>"
//   No `c ? "lit" : str` on strings anywhere: AssemblyScript 0.14 releases
//   the string once too often there (the root's configuration got freed and
//   its memory reused, which trapped a later request in the SDK's runtime).
//   * a counter metric "as_requests" counts requests
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
  send_local_response, GrpcStatusValues, log, LogLevelValues, Headers, HeaderPair, Counter,
  WasmResultValues,
} from "@solo-io/proxy-runtime";

let requests: Counter | null = null;

class CompatRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new CompatStream(context_id, this);
  }
  onConfigure(configuration_size: u32): bool {
    const ok = super.onConfigure(configuration_size);
    requests = new Counter("as_requests");
    log(LogLevelValues.info, "as-compat configured: " + this.getConfiguration());
    return ok;
  }
}

function pair(k: string, v: string): HeaderPair {
  return new HeaderPair(String.UTF8.encode(k), String.UTF8.encode(v));
}

class CompatStream extends Context {
  constructor(context_id: u32, root_context: CompatRoot) {
    super(context_id, root_context);
  }
  onRequestHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    if (requests) (requests as Counter).increment(1);
    if (stream_context.headers.request.get("x-as-deny") != "") {
      send_local_response(418, "as_denied", String.UTF8.encode("denied by assemblyscript\n"), [], GrpcStatusValues.Unknown);
      return FilterHeadersStatusValues.StopIteration;
    }
    stream_context.headers.request.add("x-as-seen", "yes");
    if (stream_context.headers.request.get("x-as-callout") != "") {
      const headers: Headers = [pair(":method", "GET"), pair(":path", "/ok"), pair(":authority", "callout")];
      const r = this.root_context.httpCall("as_callout", headers, new ArrayBuffer(0), [], 2000, this,
        (origin: Context, h: u32, body_size: usize, t: u32): void => {
          const status = stream_context.headers.http_callback.get(":status");
          stream_context.headers.request.add("x-as-callout-status", status);
          origin.continueRequest();
        });
      if (r != WasmResultValues.Ok) {
        send_local_response(500, "as_callout_failed", String.UTF8.encode("callout failed\n"), [], GrpcStatusValues.Unknown);
      }
      return FilterHeadersStatusValues.StopIteration;
    }
    return FilterHeadersStatusValues.Continue;
  }
  onResponseHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    let conf = this.root_context.getConfiguration();
    if (conf == "") conf = "world";
    stream_context.headers.response.add("x-as-hello", conf);
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32): RootContext => { return new CompatRoot(context_id); }, "as_compat");
