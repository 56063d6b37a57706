// The billing details of issue 12 (rang_at, sip_call_id, hangup_disposition,
// hangup_cause_q850, sip_term_phrase, sip_network_port, sip_transport,
// accountcode, trunk, recording_url, answered_by, transfer, caller_e164,
// callee_e164, destination, related_call_ids) from the samples of every
// route, against values worked out by hand from the sample text; the same leg
// by two routes; and hand-written variables for what no sample carries,
// through mod_json_cdr, mod_xml_cdr and ESL alike.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "adapters/freeswitch/esl_event.h"
#include "adapters/freeswitch/esl_frame.h"
#include "tests/adapters/esl_test_input.h"
#include "tests/adapters/sample_record.h"

namespace cdrd::test {
namespace {

using Strings = std::vector<std::string>;

// The members of a list of strings; {"<absent>"} without the field.
Strings list(const Record& r, const char* field) {
  if (!r.has(field)) return {"<absent>"};
  Strings out;
  for (const auto& v : r.doc()[field].GetArray()) out.emplace_back(v.IsString() ? v.GetString() : "<not a string>");
  return out;
}

// Each transfer as "time|uuid|kind|destination", "-" for a member left out.
Strings transfers(const Record& r) {
  if (!r.has("transfer")) return {"<absent>"};
  Strings out;
  for (const auto& t : r.doc()["transfer"].GetArray()) {
    std::string line;
    for (const char* member : {"time", "uuid", "kind", "destination"}) {
      if (!line.empty()) line += "|";
      line += t.HasMember(member) ? t[member].GetString() : "-";
    }
    out.push_back(line);
  }
  return out;
}

Record esl_plain(const std::string& sample, const NormalizeOptions& options = default_options()) {
  return Record(normalize_esl_event(event_from_body(complete_plain_body(read_sample(sample))), options));
}

Record esl_decoded(const std::string& sample, const NormalizeOptions& options = default_options()) {
  return Record(normalize_esl_event(event_from_body(plain_body_from_decoded_dump(read_sample(sample))), options));
}

Record xml_sample(const std::string& sample, const NormalizeOptions& options = default_options()) {
  return Record(normalize_xml_cdr(read_sample(sample), options));
}

// The plain scalar fields of the issue, "<absent>" / -1 when left out.
struct Scalars {
  std::string rang_at, sip_call_id, hangup_disposition;
  int64_t hangup_cause_q850;
  std::string sip_term_phrase;
  int64_t sip_network_port;
  std::string sip_transport, accountcode, trunk;
};

void expect_scalars(const Record& r, const Scalars& want, const std::string& sample) {
  ASSERT_TRUE(r.ok()) << sample << ": " << r.result().error.message;
  EXPECT_EQ(r.str("rang_at"), want.rang_at) << sample;
  EXPECT_EQ(r.str("sip_call_id"), want.sip_call_id) << sample;
  EXPECT_EQ(r.str("hangup_disposition"), want.hangup_disposition) << sample;
  EXPECT_EQ(r.num("hangup_cause_q850"), want.hangup_cause_q850) << sample;
  EXPECT_EQ(r.str("sip_term_phrase"), want.sip_term_phrase) << sample;
  EXPECT_EQ(r.num("sip_network_port"), want.sip_network_port) << sample;
  EXPECT_EQ(r.str("sip_transport"), want.sip_transport) << sample;
  EXPECT_EQ(r.str("accountcode"), want.accountcode) << sample;
  EXPECT_EQ(r.str("trunk"), want.trunk) << sample;
  // No sample ran AMD or recorded.
  EXPECT_FALSE(r.has("answered_by")) << sample;
  EXPECT_FALSE(r.has("recording_url")) << sample;
  // The writer's, never the normalizer's.
  EXPECT_FALSE(r.has("direction_class")) << sample;
}

// rang_at = progress_uepoch, else progress_media_uepoch (0 = none); sip_network_port = sip_network_port,
// else sip_received_port; sip_term_phrase = sip_hangup_phrase, else sip_invite_failure_phrase.
TEST(BillingFieldsSamples, JsonCdr) {
  // progress_uepoch 1368707608927201; sip_call_id "774f3a8a01222f664e6edebd372eef3d%400%3A0%3A0%3A0%3A0%3A0%3A0%3A0"
  const Record a = normalize_sample("json_cdr_cgrates_2013a.json");
  expect_scalars(a,
                 {"2013-05-16T12:33:28.927201Z", "774f3a8a01222f664e6edebd372eef3d@0:0:0:0:0:0:0:0", "send_bye", 16,
                  "OK", 5060, "udp", "1001", "<absent>"},
                 "2013a");
  EXPECT_EQ(transfers(a), Strings{"<absent>"});  // no transfer_history
  // bridge_uuid = last_bridge_to = signal_bond = the originatee's uuid; call_uuid is its own
  EXPECT_EQ(list(a, "related_call_ids"), Strings{"28262ed6-9d57-4dac-8f0b-9cad38cc5183"});
  // caller 1001, callee 1002 (destination_number): extensions, no numbers
  EXPECT_FALSE(a.has("caller_e164"));
  EXPECT_FALSE(a.has("callee_e164"));
  EXPECT_FALSE(a.has("destination"));

  // progress_uepoch 1515666344594267; no accountcode
  const Record r2017 = normalize_sample("json_cdr_cgrates_2017.json");
  expect_scalars(r2017,
                 {"2018-01-11T10:25:44.594267Z", "818e26f805701988c1a330175d7d2629@0:0:0:0:0:0:0:0", "send_bye", 16,
                  "OK", 5060, "udp", "<absent>", "<absent>"},
                 "2017");
  // transfer_history "1515666344:b4300942-e809-4393-99cb-d39a1bc3c219:bl_xfer:1002/default/XML"
  EXPECT_EQ(transfers(r2017),
            Strings{"2018-01-11T10:25:44.000000Z|b4300942-e809-4393-99cb-d39a1bc3c219|bl_xfer|1002/default/XML"});
  EXPECT_EQ(list(r2017, "related_call_ids"), Strings{"f52c26f1-b018-4963-bf6d-a3111d1a0320"});

  // 2013b: the current profile's numbers are "dan" (a name, no number).
  const Record b = normalize_sample("json_cdr_cgrates_2013b.json");
  expect_scalars(b,
                 {"2013-08-04T09:50:54.505584Z", "ca9c5e20caeaa6596be8cf66261f13e5@0:0:0:0:0:0:0:0", "send_bye", 16,
                  "OK", 5060, "udp", "<absent>", "<absent>"},
                 "2013b");
  EXPECT_EQ(transfers(b),
            Strings{"2013-08-04T09:50:54.000000Z|d2300128-6724-471c-a495-a3f7a985a2b6|bl_xfer|dan/redirected/XML"});
  EXPECT_FALSE(b.has("caller_e164"));
  EXPECT_FALSE(b.has("callee_e164"));
}

TEST(BillingFieldsSamples, XmlCdr) {
  // tinycdr 2009: progress_uepoch 1242921226580377; no sip_network_port: sip_received_port 5061;
  // no sip_hangup_disposition, no phrase; sip_call_id "uezqmckgyeznkvl%40onedrop.nationwide-recovery.com"
  const Record tiny = xml_sample("xml_cdr_tinycdr_2009_originator_cancel.xml");
  expect_scalars(tiny,
                 {"2009-05-21T15:53:46.580377Z", "uezqmckgyeznkvl@onedrop.nationwide-recovery.com", "<absent>", 16,
                  "<absent>", 5061, "udp", "1000", "<absent>"},
                 "tinycdr");
  // bridge_uuid = signal_bond = the originatee profile's uuid
  EXPECT_EQ(list(tiny, "related_call_ids"), Strings{"913d2a1c-461f-11de-aa7f-b10b4edc0c92"});
  EXPECT_EQ(transfers(tiny), Strings{"<absent>"});

  // fsdocs 2014: refused at once; progress 0 and progress_media 0; call_uuid is its own uuid.
  const Record docs = xml_sample("xml_cdr_fsdocs_2014_refused_unanswered.xml");
  expect_scalars(docs,
                 {"<absent>", "8d8cccc68b962aa709a2c90d36e6165c", "send_refuse", 16, "<absent>", 5082, "udp",
                  "<absent>", "<absent>"},
                 "fsdocs 2014");
  EXPECT_EQ(list(docs, "related_call_ids"), Strings{"<absent>"});
  // destination_number 003468888646444: 00 is no international prefix in US, and no US number
  EXPECT_FALSE(docs.has("callee_e164"));
  // ... but it is in a region whose international prefix is 00; +34 688 886 464 44 has one digit too many for
  // Spain, so still no number. The account's region decides (default account "default").
  NormalizeOptions fr = default_options();
  fr.numbers.account_regions = {{"default", "FR"}};
  EXPECT_FALSE(xml_sample("xml_cdr_fsdocs_2014_refused_unanswered.xml", fr).has("callee_e164"));
  // The profile "external" maps to a trunk when configured.
  NormalizeOptions by_profile = default_options();
  by_profile.trunks.by_profile = {{"external", "carrier-x"}};
  EXPECT_EQ(xml_sample("xml_cdr_fsdocs_2014_refused_unanswered.xml", by_profile).str("trunk"), "carrier-x");
}

TEST(BillingFieldsSamples, EslEvents) {
  // 2014: Caller-Channel-Progress-Time = progress_uepoch 1398442108013993
  const Record r2014 = esl_plain("esl_hangup_plain_cgrates_2014.txt");
  expect_scalars(r2014,
                 {"2014-04-25T16:08:28.013993Z", "91a3940835793bb505003344ba6fc116@0:0:0:0:0:0:0:0", "send_bye", 16,
                  "OK", 5060, "udp", "1003", "<absent>"},
                 "plain 2014");
  // variable_transfer_history "1398442107%3A93b23eed-...%3Abl_xfer%3A1002/default/XML"
  EXPECT_EQ(transfers(r2014),
            Strings{"2014-04-25T16:08:27.000000Z|93b23eed-7c33-49c8-a52d-f2b22b84e418|bl_xfer|1002/default/XML"});
  EXPECT_EQ(list(r2014, "related_call_ids"), Strings{"b7f3d830-b3a4-4e1c-b600-572eeb462c39"});

  // libresbc A-leg: progress_uepoch 0, progress_media_uepoch 1621654552843675; no phrase, no accountcode.
  const Record a = esl_decoded("esl_hangup_decoded_libresbc_aleg.txt");
  expect_scalars(a,
                 {"2021-05-22T03:35:52.843675Z", "3ce07fec6b701b334dddaf8f35c388c5@13.228.87.44:5060", "recv_bye", 16,
                  "<absent>", 5060, "udp", "<absent>", "<absent>"},
                 "libresbc A");
  // Caller-Caller-ID-Number 33123456789 and Caller-Callee-ID-Number 84987654321: no US numbers, but valid
  // international ones without their '+': Paris fixed line, Vietnamese mobile.
  EXPECT_EQ(a.str("caller_e164"), "+33123456789");
  EXPECT_EQ(a.str("callee_e164"), "+84987654321");
  EXPECT_EQ(a.sub("destination", "name"), "Vietnam");
  EXPECT_EQ(a.sub("destination", "country"), "VN");
  EXPECT_EQ(a.sub("destination", "type"), "mobile");
  EXPECT_EQ(list(a, "related_call_ids"), Strings{"b1072f22-cdab-42c2-bea1-a3f3730098e5"});

  // libresbc B-leg: no progress at all, no Via (outbound), variable_sip_gateway_name pbxtcp.
  const Record b = esl_decoded("esl_hangup_decoded_libresbc_bleg.txt");
  expect_scalars(b,
                 {"<absent>", "a69096bb-3551-123a-2e8c-ea0e9328da5f", "send_bye", 16, "OK", 5060, "<absent>",
                  "<absent>", "pbxtcp"},
                 "libresbc B");
  // Caller 6533123456789: +65 (Singapore) numbers have 8 digits, so no number.
  EXPECT_FALSE(b.has("caller_e164"));
  EXPECT_EQ(b.str("callee_e164"), "+84987654321");
  // Other-Leg-Unique-ID = originator = originating_leg_uuid = call_uuid = the A-leg; origination_uuid is its own.
  EXPECT_EQ(list(b, "related_call_ids"), Strings{"88b4673b-ad2c-4e8b-8fd6-4ad10aeb9ab0"});
  // The two legs name each other.
  EXPECT_EQ(list(a, "related_call_ids"), Strings{b.str("call_id")});
  EXPECT_EQ(list(b, "related_call_ids"), Strings{a.str("call_id")});

  // The fsock capture (without the 14 bytes its author inserted): parked and cancelled before answer, no
  // progress, no sip_hangup_disposition, no phrase; sofia_profile_name B2BUA.
  const std::string fsock = read_sample("esl_wire_inbound_fsock_2012_unanswered_cancel.txt").erase(91756, 14);
  EslFrameParser parser;
  std::vector<EslFrame> frames;
  std::string error;
  ASSERT_TRUE(parser.feed(fsock, &frames, &error)) << error;
  int hangups = 0;
  for (const EslFrame& frame : frames) {
    EslEvent event;
    if (!parse_esl_event(frame, &event, &error) || event.name() != "CHANNEL_HANGUP_COMPLETE") continue;
    ++hangups;
    const Record r(normalize_esl_event(event, default_options()));
    expect_scalars(r,
                   {"<absent>", "5a4148a38eea6ed30ca883839359fb0d@0:0:0:0:0:0:0:0", "<absent>", 16, "<absent>", 5060,
                    "udp", "<absent>", "<absent>"},
                   "wire fsock");
    // Caller-Caller-ID-Number 4986517174963 and destination 4986517174963: no US number, but +49 8651 7174963
    // is a valid German (Bad Reichenhall) fixed line.
    EXPECT_EQ(r.str("caller_e164"), "+4986517174963");
    EXPECT_EQ(r.str("callee_e164"), "+4986517174963");
    EXPECT_EQ(r.sub("destination", "country"), "DE");
    EXPECT_EQ(r.sub("destination", "type"), "fixed_line");
  }
  EXPECT_EQ(hangups, 1);
}

// Every new field of one leg, as JSON text, for comparing two routes.
std::string new_fields(const Record& r) {
  std::string out;
  for (const char* field : {"rang_at", "sip_call_id", "hangup_disposition", "hangup_cause_q850", "sip_term_phrase",
                            "sip_network_port", "sip_transport", "accountcode", "trunk", "recording_url", "answered_by",
                            "transfer", "caller_e164", "callee_e164", "destination", "related_call_ids"}) {
    out += std::string(field) + "=";
    if (r.has(field)) {
      rapidjson::StringBuffer sb;
      rapidjson::Writer<rapidjson::StringBuffer> w(sb);
      r.doc()[field].Accept(w);
      out += sb.GetString();
    }
    out += "\n";
  }
  return out;
}

TEST(BillingFieldsSamples, SameLegByTwoRoutes) {
  // esl_hangup_plain_cgrates_2015 and json_cdr_cgrates_2015 are one leg, and so are the 2018b pair.
  const Record esl2015 = esl_plain("esl_hangup_plain_cgrates_2015.txt");
  const Record json2015 = normalize_sample("json_cdr_cgrates_2015.json");
  // progress 0 and progress_media 0: no rang_at; no sip_hangup_phrase; TCP from port 46615.
  expect_scalars(
      json2015,
      {"<absent>", "r3xaJ8CLpyTAIHWUZG7gtZQYgAPEGf9S", "recv_bye", 16, "<absent>", 46615, "tcp", "1001", "<absent>"},
      "json 2015");
  EXPECT_EQ(transfers(json2015),
            Strings{"2015-07-07T14:52:08.000000Z|e7c250e8-6ad7-4bd4-8962-318e0b0da728|bl_xfer|1003/default/XML"});
  EXPECT_EQ(list(json2015, "related_call_ids"), Strings{"0a30dd7c-c222-482f-a322-b1218a15f8cd"});
  EXPECT_EQ(new_fields(esl2015), new_fields(json2015));

  const Record esl2018 = esl_plain("esl_hangup_plain_cgrates_2018b.txt");
  const Record json2018 = normalize_sample("json_cdr_cgrates_2018b.json");
  expect_scalars(json2018,
                 {"2018-03-14T11:09:18.116123Z", "985e365faa0ec79a7fa75d001ef2449f@0:0:0:0:0:0:0:0", "recv_bye", 16,
                  "<absent>", 5060, "udp", "1001", "<absent>"},
                 "json 2018b");
  EXPECT_EQ(transfers(json2018),
            Strings{"2018-03-14T11:09:18.000000Z|86c9ebb2-888f-42d5-9afa-2101449a4b86|bl_xfer|1002/default/XML"});
  EXPECT_EQ(list(json2018, "related_call_ids"), Strings{"9c1afb4f-1d4a-4e45-84a3-d25721981bf5"});
  EXPECT_EQ(new_fields(esl2018), new_fields(json2018));

  // With every rule configured (trunk by profile "internal", region FR), still the same.
  NormalizeOptions options = default_options();
  options.trunks.by_profile = {{"internal", "pbx"}, {"cgrtest", "lab"}};
  options.numbers.default_region = "FR";
  EXPECT_EQ(new_fields(esl_plain("esl_hangup_plain_cgrates_2018b.txt", options)),
            new_fields(normalize_sample("json_cdr_cgrates_2018b.json", options)));
  EXPECT_EQ(normalize_sample("json_cdr_cgrates_2018b.json", options).str("trunk"), "pbx");
  EXPECT_EQ(esl_plain("esl_hangup_plain_cgrates_2015.txt", options).str("trunk"), "lab");
}

// Hand-written variables put first in a base document of each route (they
// win over the base's own): json_cdr_cgrates_2013b, xml_cdr_fsdocs_2014,
// esl_hangup_plain_cgrates_2018b.
using Variables = std::vector<std::pair<std::string, std::string>>;

struct Route {
  const char* name;
  std::function<Record(const Variables&, const NormalizeOptions&)> normalize;
};

Record json_with(const Variables& vars, const NormalizeOptions& options) {
  std::string extra;
  for (const auto& [name, value] : vars) extra += (extra.empty() ? "\"" : ",\"") + name + "\":\"" + value + "\"";
  const std::string doc = read_sample("json_cdr_cgrates_2013b.json");
  return Record(normalize_json_cdr(extra.empty() ? doc : with_variables(doc, extra), options));
}

Record xml_with(const Variables& vars, const NormalizeOptions& options) {
  const std::string doc = read_sample("xml_cdr_fsdocs_2014_refused_unanswered.xml");
  std::string extra;
  // mod_xml_cdr url-encodes every value.
  for (const auto& [name, value] : vars) extra += "<" + name + ">" + percent_encode(value) + "</" + name + ">";
  const size_t at = doc.find("<variables>") + std::string("<variables>").size();
  return Record(normalize_xml_cdr(doc.substr(0, at) + extra + doc.substr(at), options));
}

Record esl_with(const Variables& vars, const NormalizeOptions& options) {
  std::string extra;
  for (const auto& [name, value] : vars) extra += "variable_" + name + ": " + percent_encode(value) + "\n";
  const std::string body = extra + complete_plain_body(read_sample("esl_hangup_plain_cgrates_2018b.txt"));
  return Record(normalize_esl_event(event_from_body(body), options));
}

class BillingFieldsRules : public ::testing::TestWithParam<Route> {
 protected:
  Record leg(const Variables& vars, const NormalizeOptions& options = default_options()) {
    Record r = GetParam().normalize(vars, options);
    EXPECT_TRUE(r.ok()) << r.result().error.code << ": " << r.result().error.message;
    return r;
  }
};

TEST_P(BillingFieldsRules, SeveralTransfersReferAndDiversion) {
  const Record r =
      leg({{"transfer_history",
            "ARRAY::1515666344:b4300942-e809-4393-99cb-d39a1bc3c219:bl_xfer:1002/default/XML"
            "|:1515666350:c1c2c3c4-0000-4000-8000-000000000001:att_xfer:1002@10.0.0.1/1003@10.0.0.1"
            "|:1515666360:d1d2d3d4-0000-4000-8000-000000000002:uuid_br:f52c26f1-b018-4963-bf6d-a3111d1a0320"},
           {"sip_refer_to", "<sip:1004@10.0.0.1>"},
           {"sip_i_diversion", "<sip:+33170363950@carrier.example>;reason=unconditional"}});
  const std::string bl_xfer =
      "2018-01-11T10:25:44.000000Z|b4300942-e809-4393-99cb-d39a1bc3c219|bl_xfer|1002/default/XML";
  const std::string att_xfer =
      "2018-01-11T10:25:50.000000Z|c1c2c3c4-0000-4000-8000-000000000001|att_xfer|1002@10.0.0.1/1003@10.0.0.1";
  const std::string uuid_br = std::string("2018-01-11T10:26:00.000000Z|d1d2d3d4-0000-4000-8000-000000000002|") +
                              "uuid_br|f52c26f1-b018-4963-bf6d-a3111d1a0320";
  EXPECT_EQ(transfers(r), (Strings{bl_xfer, att_xfer, uuid_br, "-|-|refer|<sip:1004@10.0.0.1>",
                                   "-|-|diversion|<sip:+33170363950@carrier.example>;reason=unconditional"}));
  // The uuid_br entry names the channel it bridged to.
  const Strings ids = list(r, "related_call_ids");
  EXPECT_NE(std::find(ids.begin(), ids.end(), "f52c26f1-b018-4963-bf6d-a3111d1a0320"), ids.end());
  EXPECT_EQ(std::find(ids.begin(), ids.end(), "d1d2d3d4-0000-4000-8000-000000000002"), ids.end());
}

TEST_P(BillingFieldsRules, AnsweringMachineDetection) {
  EXPECT_EQ(leg({{"amd_result", "HUMAN"}}).str("answered_by"), "human");
  EXPECT_EQ(leg({{"amd_result", "MACHINE"}}).str("answered_by"), "machine");
  EXPECT_EQ(leg({{"avmd_detect", "TRUE"}}).str("answered_by"), "machine");
  EXPECT_FALSE(leg({{"amd_result", "NOTSURE"}}).has("answered_by"));
  EXPECT_FALSE(leg({}).has("answered_by"));
}

TEST_P(BillingFieldsRules, RecordingUrl) {
  // Default variables: recording_url, then Kazoo's CCV Recording-Url.
  EXPECT_EQ(leg({{"ecallmgr_Recording-Url", "https://kazoo/rec/1.mp3"}}).str("recording_url"),
            "https://kazoo/rec/1.mp3");
  EXPECT_EQ(leg({{"ecallmgr_Recording-Url", "https://kazoo/rec/1.mp3"}, {"recording_url", "https://fs/rec.wav"}})
                .str("recording_url"),
            "https://fs/rec.wav");
  NormalizeOptions templated = default_options();
  templated.recording.url_template = "https://rec.example/{record_path}/{record_name}";
  EXPECT_EQ(leg({{"record_path", "2024/05"}, {"record_name", "a b.mp3"}}, templated).str("recording_url"),
            "https://rec.example/2024/05/a b.mp3");
  // A variable of the template missing: no field.
  EXPECT_FALSE(leg({{"record_path", "2024/05"}}, templated).has("recording_url"));
  // A recording variable wins over the template.
  EXPECT_EQ(leg({{"recording_url", "https://fs/rec.wav"}, {"record_path", "p"}, {"record_name", "n"}}, templated)
                .str("recording_url"),
            "https://fs/rec.wav");
}

TEST_P(BillingFieldsRules, TrunkRules) {
  NormalizeOptions options = default_options();
  TrunkRules::Network v4, v6;
  std::string why;
  ASSERT_TRUE(parse_cidr("198.51.100.0/24", &v4.network, &why)) << why;
  v4.trunk = "carrier-v4";
  ASSERT_TRUE(parse_cidr("2001:db8:5::/48", &v6.network, &why)) << why;
  v6.trunk = "carrier-v6";
  options.trunks.by_network = {v4, v6};
  options.trunks.by_profile = {{"carriers", "by-profile"}};
  const auto trunk = [&](const Variables& vars) { return leg(vars, options).str("trunk"); };
  EXPECT_EQ(
      trunk({{"sip_gateway_name", "gw-1"}, {"ecallmgr_Resource-ID", "res-1"}, {"sip_network_ip", "198.51.100.9"}}),
      "gw-1");
  EXPECT_EQ(trunk({{"ecallmgr_Resource-ID", "res-1"}, {"sip_network_ip", "198.51.100.9"}}), "res-1");
  EXPECT_EQ(trunk({{"sip_network_ip", "198.51.100.9"}, {"sofia_profile_name", "carriers"}}), "carrier-v4");
  EXPECT_EQ(trunk({{"sip_network_ip", "2001:db8:5::10"}, {"sofia_profile_name", "carriers"}}), "carrier-v6");
  EXPECT_EQ(trunk({{"sip_network_ip", "192.0.2.1"}, {"sofia_profile_name", "carriers"}}), "by-profile");
  EXPECT_EQ(trunk({{"sip_network_ip", "192.0.2.1"}, {"sofia_profile_name", "phones"}}), "<absent>");
  // Without configuration only the variables count.
  EXPECT_EQ(leg({{"sip_network_ip", "198.51.100.9"}}).str("trunk"), "<absent>");
}

TEST_P(BillingFieldsRules, ScalarsFromVariables) {
  const Record r = leg({{"progress_uepoch", "0"},
                        {"progress_media_uepoch", "1375609855000001"},
                        {"sip_hangup_phrase", ""},
                        {"sip_invite_failure_phrase", "Busy Here"},
                        {"sip_network_port", ""},
                        {"sip_received_port", "5080"},
                        {"sip_via_protocol", "WSS"},
                        {"hangup_cause_q850", "17"},
                        {"accountcode", "acct-code-9"}});
  // progress_uepoch 0: progress_media_uepoch 1375609855000001
  EXPECT_EQ(r.str("rang_at"), "2013-08-04T09:50:55.000001Z");
  EXPECT_EQ(r.str("sip_term_phrase"), "Busy Here");
  EXPECT_EQ(r.num("sip_network_port"), 5080);
  EXPECT_EQ(r.str("sip_transport"), "wss");
  EXPECT_EQ(r.num("hangup_cause_q850"), 17);
  EXPECT_EQ(r.str("accountcode"), "acct-code-9");
  // Values that are no number are left out, never a refusal.
  const Record odd = leg({{"hangup_cause_q850", "sixteen"}, {"sip_network_port", "99999"}, {"sip_received_port", ""}});
  EXPECT_FALSE(odd.has("hangup_cause_q850"));
  EXPECT_FALSE(odd.has("sip_network_port"));
}

TEST_P(BillingFieldsRules, CustomKeysInKazooSpelling) {
  const Record r = leg({{"ecallmgr_Owner-ID", "o-1"},
                        {"ecallmgr_Authorizing-Type", "device"},
                        {"sip_h_X-Foo-Bar", "fb"},
                        {"sip_h_X-FOO-bar", "second spelling of the same key"},
                        {"cav_Campaign-Name", "spring"}});
  EXPECT_EQ(r.sub("custom_channel_vars", "owner_id"), "o-1");
  EXPECT_EQ(r.sub("custom_channel_vars", "authorizing_type"), "device");
  EXPECT_EQ(r.sub("custom_channel_vars", "Owner-ID"), "<absent>");
  // X-FOO-bar sorts before X-Foo-Bar ('O' < 'o'): the first in name order stays.
  EXPECT_EQ(r.sub("custom_sip_headers", "x_foo_bar"), "second spelling of the same key");
  EXPECT_EQ(r.sub("custom_application_vars", "campaign_name"), "spring");
}

INSTANTIATE_TEST_SUITE_P(EveryRoute, BillingFieldsRules,
                         ::testing::Values(Route{"json", json_with}, Route{"xml", xml_with}, Route{"esl", esl_with}),
                         [](const ::testing::TestParamInfo<Route>& info) { return std::string(info.param.name); });

// The numbers of a leg in the region of its account: xml_cdr_fsdocs_2014 with
// its caller 8009 and destination 003468888646444 replaced.
Record xml_numbers(const std::string& caller, const std::string& destination, const std::string& account,
                   const NormalizeOptions& options) {
  std::string doc = read_sample("xml_cdr_fsdocs_2014_refused_unanswered.xml");
  doc = replace_all(doc, "<caller_id_number>8009</caller_id_number>",
                    "<caller_id_number>" + caller + "</caller_id_number>");
  doc = replace_all(doc, "<destination_number>003468888646444</destination_number>",
                    "<destination_number>" + destination + "</destination_number>");
  const size_t at = doc.find("<variables>") + std::string("<variables>").size();
  doc = doc.substr(0, at) + "<account_id>" + account + "</account_id>" + doc.substr(at);
  return Record(normalize_xml_cdr(doc, options));
}

TEST(BillingFieldsNumbers, RegionOfTheAccount) {
  NormalizeOptions options = default_options();
  options.numbers.account_regions = {{"acct-paris", "FR"}, {"acct-london", "GB"}};
  // Default region US.
  const Record us = xml_numbers("2025550123", "8002530000", "acct-ny", options);
  ASSERT_TRUE(us.ok()) << us.result().error.message;
  EXPECT_EQ(us.str("caller_id_number"), "2025550123");
  EXPECT_EQ(us.str("caller_e164"), "+12025550123");
  EXPECT_EQ(us.str("callee_e164"), "+18002530000");
  EXPECT_EQ(us.sub("destination", "name"), "United States");
  EXPECT_EQ(us.sub("destination", "country"), "US");
  EXPECT_EQ(us.sub("destination", "type"), "toll_free");
  // The same national numbers of a French account.
  const Record fr = xml_numbers("0170363950", "0612345678", "acct-paris", options);
  EXPECT_EQ(fr.str("caller_e164"), "+33170363950");
  EXPECT_EQ(fr.str("callee_e164"), "+33612345678");
  EXPECT_EQ(fr.sub("destination", "name"), "France");
  EXPECT_EQ(fr.sub("destination", "country"), "FR");
  EXPECT_EQ(fr.sub("destination", "type"), "mobile");
  // A British account calling Germany with the 00 prefix.
  const Record gb = xml_numbers("07400123456", "004930123456", "acct-london", options);
  EXPECT_EQ(gb.str("caller_e164"), "+447400123456");
  EXPECT_EQ(gb.str("callee_e164"), "+4930123456");
  EXPECT_EQ(gb.sub("destination", "name"), "Germany");
  EXPECT_EQ(gb.sub("destination", "type"), "fixed_line");
  // Garbage: the fields are left out, the CDR is kept.
  const Record bad = xml_numbers("anonymous", "12", "acct-paris", options);
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad.has("caller_e164"));
  EXPECT_FALSE(bad.has("callee_e164"));
  EXPECT_FALSE(bad.has("destination"));
}

}  // namespace
}  // namespace cdrd::test
