// Parse + normalize rate of one FreeSWITCH document on one thread: an ESL
// hangup event from its framed bytes (frame parser, event parser,
// normalize_esl_event), a mod_json_cdr document, a mod_xml_cdr document.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "adapters/freeswitch/esl_event.h"
#include "adapters/freeswitch/esl_frame.h"
#include "adapters/freeswitch/normalize.h"
#include "tests/adapters/esl_test_input.h"

namespace cdrd {
namespace {

std::string read_sample(const std::string& name) {
  std::ifstream in(std::string(CDRD_BENCH_SAMPLES_DIR) + "/" + name, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

NormalizeOptions bench_options() {
  NormalizeOptions options;
  options.node = "bench";
  options.app_version = "bench";
  return options;
}

void esl_event(benchmark::State& state, const std::string& wire) {
  const NormalizeOptions options = bench_options();
  for (auto _ : state) {
    EslFrameParser parser;
    std::vector<EslFrame> frames;
    std::string error;
    EslEvent event;
    if (!parser.feed(wire, &frames, &error) || frames.size() != 1 || !parse_esl_event(frames[0], &event, &error)) {
      state.SkipWithError(error.c_str());
      return;
    }
    NormalizeResult result = normalize_esl_event(event, options);
    if (!result.ok()) {
      state.SkipWithError(result.error.message.c_str());
      return;
    }
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(wire.size()));
}

template <NormalizeResult (*Normalize)(std::string_view, const NormalizeOptions&, std::string_view)>
void cdr_document(benchmark::State& state, const std::string& document) {
  const NormalizeOptions options = bench_options();
  for (auto _ : state) {
    NormalizeResult result = Normalize(document, options, {});
    if (!result.ok()) {
      state.SkipWithError(result.error.message.c_str());
      return;
    }
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(document.size()));
}

// A mod_json_cdr document whose caller and callee numbers are new in every
// iteration: more distinct pairs than the per-thread memo of
// adapters/numbers holds (4096), so each document pays libphonenumber's
// parse, country and type once more, as a stream of unrelated calls would.
void cdr_document_new_numbers(benchmark::State& state, const std::string& document) {
  constexpr int kVariants = 8192;
  std::vector<std::string> documents;
  documents.reserve(kVariants);
  for (int i = 0; i < kVariants; ++i) {
    std::string doc = document;
    const std::string caller = "\"caller_id_number\": \"+1212555" + std::to_string(1000 + i % 9000) + "\"";
    const std::string callee = "\"destination_number\": \"+4420794" + std::to_string(10000 + i) + "\"";
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"\"caller_id_number\": \"1001\"", caller},
                                   std::pair<std::string, std::string>{"\"destination_number\": \"1002\"", callee}}) {
      for (size_t at = doc.find(from); at != std::string::npos; at = doc.find(from, at + to.size())) {
        doc.replace(at, from.size(), to);
      }
    }
    documents.push_back(std::move(doc));
  }
  const NormalizeOptions options = bench_options();
  size_t next = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    const std::string& doc = documents[next];
    next = (next + 1) % documents.size();
    NormalizeResult result = normalize_json_cdr(doc, options, {});
    if (!result.ok()) {
      state.SkipWithError(result.error.message.c_str());
      return;
    }
    bytes += static_cast<int64_t>(doc.size());
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}

// The hangup frame of a wire capture, re-framed alone.
std::string hangup_frame_of_capture(const std::string& capture) {
  EslFrameParser parser;
  std::vector<EslFrame> frames;
  std::string error;
  parser.feed(capture, &frames, &error);
  for (const EslFrame& frame : frames) {
    EslEvent event;
    if (parse_esl_event(frame, &event, &error) && event.name() == "CHANNEL_HANGUP_COMPLETE") {
      return test::frame_event(frame.body);
    }
  }
  return {};
}

void register_all() {
  for (const char* name : {"esl_hangup_plain_cgrates_2014.txt", "esl_hangup_plain_cgrates_2015.txt",
                           "esl_hangup_plain_cgrates_2018a.txt", "esl_hangup_plain_cgrates_2018b.txt"}) {
    const std::string wire = test::frame_event(test::complete_plain_body(read_sample(name)));
    benchmark::RegisterBenchmark((std::string("esl/") + name).c_str(), esl_event, wire);
  }
  for (const char* name : {"esl_hangup_decoded_fsdocs_2009_answered.txt", "esl_hangup_decoded_libresbc_aleg.txt",
                           "esl_hangup_decoded_libresbc_bleg.txt"}) {
    const std::string wire = test::frame_event(test::plain_body_from_decoded_dump(read_sample(name)));
    benchmark::RegisterBenchmark((std::string("esl/") + name).c_str(), esl_event, wire);
  }
  // The fsock capture without the 14 bytes its author inserted (samples README).
  const std::string fsock = read_sample("esl_wire_inbound_fsock_2012_unanswered_cancel.txt").erase(91756, 14);
  benchmark::RegisterBenchmark("esl/esl_wire_inbound_fsock_2012_unanswered_cancel.txt", esl_event,
                               hangup_frame_of_capture(fsock));
  benchmark::RegisterBenchmark(
      "esl/esl_wire_outbound_scalaesl_linger_hangup_complete.txt", esl_event,
      hangup_frame_of_capture(read_sample("esl_wire_outbound_scalaesl_linger_hangup_complete.txt")));
  // The plain events in their text/event-json form.
  for (const char* name : {"esl_hangup_plain_cgrates_2015.txt", "esl_hangup_plain_cgrates_2018b.txt"}) {
    const std::string wire =
        test::frame_event(test::json_body_from_plain(test::complete_plain_body(read_sample(name))), "text/event-json");
    benchmark::RegisterBenchmark((std::string("esl_json/") + name).c_str(), esl_event, wire);
  }
  for (const char* name :
       {"json_cdr_cgrates_2013a.json", "json_cdr_cgrates_2013b.json", "json_cdr_cgrates_2015.json",
        "json_cdr_cgrates_2017.json", "json_cdr_cgrates_2018a.json", "json_cdr_cgrates_2018b.json"}) {
    benchmark::RegisterBenchmark((std::string("json_cdr/") + name).c_str(), cdr_document<normalize_json_cdr>,
                                 read_sample(name));
  }
  benchmark::RegisterBenchmark("json_cdr_new_numbers/json_cdr_cgrates_2017.json", cdr_document_new_numbers,
                               read_sample("json_cdr_cgrates_2017.json"));
  for (const char* name :
       {"xml_cdr_fsdocs_2014_refused_unanswered.xml", "xml_cdr_tinycdr_2009_originator_cancel.xml"}) {
    benchmark::RegisterBenchmark((std::string("xml_cdr/") + name).c_str(), cdr_document<normalize_xml_cdr>,
                                 read_sample(name));
  }
}

}  // namespace
}  // namespace cdrd

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  cdrd::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
