// Every ESL hangup sample normalized, against values worked out by hand from
// the sample text (headers; variable_X is the channel variable X). Formulas
// as in json_cdr_samples_test.cpp:
//   id        = YYYYMM of start_uepoch (UTC) + "-" + uuid
//   timestamp = floor(end_uepoch / 1e6) + 62167219200
//   duration  = floor(end_uepoch / 1e6) - floor(start_uepoch / 1e6)
//   billing   = ceil(billmsec / 1000), billmsec = floor(end_uepoch / 1e3) - floor(answer_uepoch / 1e3)
//   ringing   = floor(progress_uepoch / 1e6) - floor(start_uepoch / 1e6), 0 when progress_uepoch is 0
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "adapters/freeswitch/esl_event.h"
#include "adapters/freeswitch/esl_frame.h"
#include "tests/adapters/esl_test_input.h"
#include "tests/adapters/sample_record.h"

namespace cdrd::test {
namespace {

struct Expected {
  std::string call_id, id, account_id;
  int64_t timestamp, channel_created_time, duration, billing, ringing;
  std::string hangup_cause, hangup_code, call_direction;
  std::string caller_id_name, caller_id_number, callee_id_name, callee_id_number;
  std::string other_leg_call_id, leg, interaction_id, media_server, billing_status;
};

Record normalize_event(const EslEvent& event) { return Record(normalize_esl_event(event, default_options())); }

EslEvent plain_sample(const std::string& name) { return event_from_body(complete_plain_body(read_sample(name))); }

EslEvent decoded_sample(const std::string& name) {
  return event_from_body(plain_body_from_decoded_dump(read_sample(name)));
}

// The one frame of a wire capture whose event is CHANNEL_HANGUP_COMPLETE.
EslEvent wire_hangup(const std::string& bytes) {
  EslFrameParser parser;
  std::vector<EslFrame> frames;
  std::string error;
  EXPECT_TRUE(parser.feed(bytes, &frames, &error)) << error;
  std::vector<EslEvent> hangups;
  for (const EslFrame& frame : frames) {
    EslEvent event;
    if (parse_esl_event(frame, &event, &error) && event.name() == "CHANNEL_HANGUP_COMPLETE") hangups.push_back(event);
  }
  EXPECT_EQ(hangups.size(), 1u);
  return hangups.empty() ? EslEvent() : hangups[0];
}

void expect_record(const Record& r, const Expected& e) {
  ASSERT_TRUE(r.ok()) << r.result().error.code << ": " << r.result().error.message;
  EXPECT_EQ(r.str("call_id"), e.call_id);
  EXPECT_EQ(r.str("id"), e.id);
  EXPECT_EQ(r.str("account_id"), e.account_id);
  EXPECT_EQ(r.num("timestamp"), e.timestamp);
  EXPECT_EQ(r.num("channel_created_time"), e.channel_created_time);
  EXPECT_EQ(r.num("duration_seconds"), e.duration);
  EXPECT_EQ(r.num("billing_seconds"), e.billing);
  EXPECT_EQ(r.num("ringing_seconds"), e.ringing);
  EXPECT_EQ(r.str("hangup_cause"), e.hangup_cause);
  EXPECT_EQ(r.str("hangup_code"), e.hangup_code);
  EXPECT_EQ(r.str("call_direction"), e.call_direction);
  EXPECT_EQ(r.str("caller_id_name"), e.caller_id_name);
  EXPECT_EQ(r.str("caller_id_number"), e.caller_id_number);
  EXPECT_EQ(r.str("callee_id_name"), e.callee_id_name);
  EXPECT_EQ(r.str("callee_id_number"), e.callee_id_number);
  EXPECT_EQ(r.str("other_leg_call_id"), e.other_leg_call_id);
  EXPECT_EQ(r.str("leg"), e.leg);
  EXPECT_EQ(r.str("interaction_id"), e.interaction_id);
  EXPECT_EQ(r.str("media_server"), e.media_server);
  EXPECT_EQ(r.str("billing_status"), e.billing_status);
  EXPECT_EQ(r.str("source"), "esl");
  EXPECT_EQ(r.str("node"), "test-node");
  EXPECT_EQ(r.result().record.raw_format, "esl");
}

TEST(EslSamples, PlainCgrates2014) {
  const EslEvent event = plain_sample("esl_hangup_plain_cgrates_2014.txt");
  const Record r = normalize_event(event);
  expect_record(r, {"37e9b766-5256-4e4b-b1ed-3767b930fec8",
                    // start_uepoch 1398442107770704 -> 2014-04-25T16:08:27Z
                    "201404-37e9b766-5256-4e4b-b1ed-3767b930fec8",
                    "192.168.56.66",  // variable_domain_name, no account variable
                    // end_uepoch 1398442125950531: 1398442125 + 62167219200
                    63565661325, 1398442107770704,
                    // 1398442125 - 1398442107 = 18
                    18,
                    // 1398442125950 - 1398442120831 = 5119 ms (billmsec 5119) -> 6
                    6,
                    // progress_uepoch 1398442108013993: 1398442108 - 1398442107 = 1 (progresssec 1)
                    1,
                    // last_app bridge: bridge_hangup_cause; last_bridge_proto_specific_hangup_cause sip%3A200
                    "NORMAL_CLEARING", "sip:200", "inbound",
                    // Caller-Caller-ID-*, Caller-Callee-ID-Name Outbound%20Call, Caller-Callee-ID-Number 1002
                    "1003", "1003", "Outbound Call", "1002",
                    // Other-Type originatee, Other-Leg-Unique-ID
                    "b7f3d830-b3a4-4e1c-b600-572eeb462c39", "A", "37e9b766-5256-4e4b-b1ed-3767b930fec8",
                    "iPBXDev",  // FreeSWITCH-Hostname
                    "answered"});
  EXPECT_EQ(r.str("other_leg_caller_id_name"), "Extension 1003");
  EXPECT_EQ(r.str("other_leg_direction"), "outbound");
  EXPECT_EQ(r.result().record.raw, complete_plain_body(read_sample("esl_hangup_plain_cgrates_2014.txt")));
}

TEST(EslSamples, PlainCgrates2015) {
  expect_record(
      normalize_event(plain_sample("esl_hangup_plain_cgrates_2015.txt")),
      {"e3133bf7-dcde-4daf-9663-9a79ffcef5ad",
       // start_uepoch 1436280728471153 -> 2015-07-07T14:52:08Z
       "201507-e3133bf7-dcde-4daf-9663-9a79ffcef5ad", "cgrates.org",
       // end_uepoch 1436280794010851: 1436280794 + 62167219200
       63603499994, 1436280728471153,
       // 1436280794 - 1436280728 = 66
       66,
       // 1436280794010 - 1436280728971 = 65039 ms -> 66
       66, 0,
       // last_app sched_hangup: hangup_cause; proto_specific_hangup_cause sip%3A200
       "NORMAL_CLEARING", "sip:200", "inbound", "1001", "1001", "Outbound Call", "1003",
       "0a30dd7c-c222-482f-a322-b1218a15f8cd", "A", "e3133bf7-dcde-4daf-9663-9a79ffcef5ad", "CgrDev1", "answered"});
}

TEST(EslSamples, PlainCgrates2018aAnsweredInTheSameSecond) {
  expect_record(normalize_event(plain_sample("esl_hangup_plain_cgrates_2018a.txt")),
                {"a511b320-18a2-425f-b574-81a088fcd70a",
                 // start_uepoch 1520954259207931 -> 2018-03-13T15:17:39Z
                 "201803-a511b320-18a2-425f-b574-81a088fcd70a", "192.168.56.202",
                 // end_uepoch 1520954264737400: 1520954264 + 62167219200
                 63688173464, 1520954259207931,
                 // 1520954264 - 1520954259 = 5
                 5,
                 // 1520954264737 - 1520954264358 = 379 ms (billsec 0) -> 1
                 1,
                 // progress_uepoch 1520954259257731: same second as the start
                 0,
                 // last_app playback: hangup_cause first; no *proto_specific_hangup_cause variable
                 "MANAGER_REQUEST", "<absent>", "inbound", "1001", "1001", "Outbound Call", "1002",
                 "b64a5ab7-3572-4c82-88ea-1c39f8157023", "A", "a511b320-18a2-425f-b574-81a088fcd70a", "teo",
                 // answered, billmsec 379 > 0
                 "answered"});
}

TEST(EslSamples, PlainCgrates2018b) {
  expect_record(
      normalize_event(plain_sample("esl_hangup_plain_cgrates_2018b.txt")),
      {"5a3a1d91-90d3-4db4-af5c-cc3ae15d93a4",
       // start_uepoch 1521025758006702 -> 2018-03-14T11:09:18Z
       "201803-5a3a1d91-90d3-4db4-af5c-cc3ae15d93a4", "192.168.56.202",
       // end_uepoch 1521025788366141: 1521025788 + 62167219200
       63688244988, 1521025758006702,
       // 1521025788 - 1521025758 = 30
       30,
       // 1521025788366 - 1521025767766 = 20600 ms -> 21
       21,
       // progress_uepoch 1521025758116123: same second as the start
       0, "NORMAL_CLEARING", "sip:200", "inbound", "1001", "1001", "Outbound Call", "1002",
       "9c1afb4f-1d4a-4e45-84a3-d25721981bf5", "A", "5a3a1d91-90d3-4db4-af5c-cc3ae15d93a4", "teo", "answered"});
}

TEST(EslSamples, WireFsockUnansweredCancel) {
  // The capture without the 14 bytes its author inserted (esl_frame_test.cpp).
  const EslEvent event = wire_hangup(read_sample("esl_wire_inbound_fsock_2012_unanswered_cancel.txt").erase(91756, 14));
  const Record r = normalize_event(event);
  expect_record(r, {"303c0f9f-4b32-4b9b-9f77-df0ca215bbe7",
                    // start_uepoch 1349437306912868 -> 2012-10-05T11:41:46Z
                    "201210-303c0f9f-4b32-4b9b-9f77-df0ca215bbe7",
                    // no account variable, no domain_name: the default account
                    "default",
                    // end_uepoch 1349437362372974: 1349437362 + 62167219200
                    63516656562, 1349437306912868,
                    // 1349437362 - 1349437306 = 56
                    56,
                    // answer_uepoch 0: never answered
                    0, 0,
                    // last_app park: hangup_cause; proto_specific_hangup_cause sip%3A487
                    "ORIGINATOR_CANCEL", "sip:487", "inbound", "4986517174963", "4986517174963",
                    // no Caller-Callee-ID-*: Caller-Destination-Number
                    "4986517174963", "4986517174963",
                    // no Other-Leg-*, no bridge variables
                    "<absent>", "A", "303c0f9f-4b32-4b9b-9f77-df0ca215bbe7", "h1.ip-switch.net",
                    // ORIGINATOR_CANCEL before answer
                    "noanswer"});
  EXPECT_EQ(r.str("sip_term_status"), "487");
  EXPECT_EQ(r.result().record.raw, event.raw);
}

TEST(EslSamples, WireScalaeslAnsweredNoBridge) {
  expect_record(normalize_event(wire_hangup(read_sample("esl_wire_outbound_scalaesl_linger_hangup_complete.txt"))),
                {"71ccf398-a027-41df-8633-5e06564039d5",
                 // start_uepoch 1605771678148855 -> 2020-11-19T07:41:18Z
                 "202011-71ccf398-a027-41df-8633-5e06564039d5", "default",
                 // end_uepoch 1605771764608818: 1605771764 + 62167219200
                 63772990964, 1605771678148855,
                 // 1605771764 - 1605771678 = 86
                 86,
                 // 1605771764608 - 1605771697528 = 67080 ms (billsec 67) -> 68
                 68, 0,
                 // last_app hangup: hangup_cause; no *proto_specific_hangup_cause variable
                 "NORMAL_CLEARING", "<absent>", "inbound", "sipp", "sipp", "441164971011", "441164971011", "<absent>",
                 "A", "71ccf398-a027-41df-8633-5e06564039d5", "ip-10-0-1-93", "answered"});
}

TEST(EslSamples, DecodedFsdocs2009NoUuidVariable) {
  // No variable_uuid and no variable_direction in 2009: Unique-ID and Call-Direction.
  expect_record(normalize_event(decoded_sample("esl_hangup_decoded_fsdocs_2009_answered.txt")),
                {"e5a82e39-6dc1-4d7d-a300-aa9cd4284073",
                 // start_uepoch 1255133286498223 -> 2009-10-10T00:08:06Z
                 "200910-e5a82e39-6dc1-4d7d-a300-aa9cd4284073", "192.168.0.2",
                 // end_uepoch 1255133306952270: 1255133306 + 62167219200
                 63422352506, 1255133286498223,
                 // 1255133306 - 1255133286 = 20
                 20,
                 // 1255133306952 - 1255133286504 = 20448 ms -> 21
                 21, 0, "NORMAL_CLEARING", "<absent>", "inbound", "1000", "1000", "3030", "3030", "<absent>", "A",
                 "e5a82e39-6dc1-4d7d-a300-aa9cd4284073", "myhost", "answered"});
}

const Expected kLibresbcA = {
    "88b4673b-ad2c-4e8b-8fd6-4ad10aeb9ab0",
    // start_uepoch 1621654552783696 -> 2021-05-22T03:35:52Z
    "202105-88b4673b-ad2c-4e8b-8fd6-4ad10aeb9ab0", "outside.libresbc",
    // end_uepoch 1621654556763676: 1621654556 + 62167219200
    63788873756, 1621654552783696,
    // 1621654556 - 1621654552 = 4
    4,
    // 1621654556763 - 1621654552843 = 3920 ms -> 4
    4, 0,
    // last_app export: hangup_cause; proto_specific_hangup_cause sip:200
    "NORMAL_CLEARING", "sip:200", "inbound", "Donald Trump", "33123456789", "Outbound Call", "84987654321",
    // Other-Type originatee
    "b1072f22-cdab-42c2-bea1-a3f3730098e5", "A", "88b4673b-ad2c-4e8b-8fd6-4ad10aeb9ab0", "libresbc1", "answered"};

const Expected kLibresbcB = {
    "b1072f22-cdab-42c2-bea1-a3f3730098e5",
    // start_uepoch 1621654552804532 -> 2021-05-22
    "202105-b1072f22-cdab-42c2-bea1-a3f3730098e5",
    // no account variable, no domain_name
    "default", 63788873756, 1621654552804532, 4,
    // 1621654556763 - 1621654552823 = 3940 ms -> 4
    4, 0,
    // no last_app: hangup_cause; last_bridge_proto_specific_hangup_cause sip:200
    "NORMAL_CLEARING", "sip:200", "outbound", "6533123456789", "6533123456789", "Outbound Call", "84987654321",
    // Other-Type originator: a B-leg; variable_call_uuid is the A-leg
    "88b4673b-ad2c-4e8b-8fd6-4ad10aeb9ab0", "B", "88b4673b-ad2c-4e8b-8fd6-4ad10aeb9ab0", "libresbc1", "answered"};

TEST(EslSamples, DecodedLibresbcLegsPointAtEachOther) {
  const Record a = normalize_event(decoded_sample("esl_hangup_decoded_libresbc_aleg.txt"));
  const Record b = normalize_event(decoded_sample("esl_hangup_decoded_libresbc_bleg.txt"));
  expect_record(a, kLibresbcA);
  expect_record(b, kLibresbcB);
  EXPECT_EQ(a.str("interaction_id"), b.str("interaction_id"));
  EXPECT_EQ(a.str("other_leg_call_id"), b.str("call_id"));
  EXPECT_EQ(b.str("other_leg_call_id"), a.str("call_id"));
  EXPECT_EQ(b.str("other_leg_caller_id_name"), "Donald Trump");
  EXPECT_EQ(b.str("other_leg_direction"), "inbound");
  // The dump's multi-line SDP came through the percent-encoding round trip.
  EXPECT_EQ(a.str("remote_sdp").substr(0, 52), "v=0\no=root 1198252565 1198252565 IN IP4 13.228.87.44");
}

// The same leg as ESL event and as mod_json_cdr: one (id, timestamp) for the writer's dedupe.
void expect_same_leg(const std::string& esl_sample, const std::string& json_sample) {
  const Record esl = normalize_event(plain_sample(esl_sample));
  const Record json = normalize_sample(json_sample);
  ASSERT_TRUE(esl.ok()) << esl.result().error.message;
  ASSERT_TRUE(json.ok()) << json.result().error.message;
  for (const char* field : {"id", "call_id", "hangup_cause", "account_id", "interaction_id", "other_leg_call_id",
                            "media_server_ip", "sip_network_ip", "local_rtp_ip", "remote_rtp_ip"}) {
    EXPECT_EQ(esl.str(field), json.str(field)) << field;
  }
  for (const char* field : {"timestamp", "billing_seconds", "duration_seconds", "channel_created_time"}) {
    EXPECT_EQ(esl.num(field), json.num(field)) << field;
  }
}

TEST(EslSamples, SameCallAsJsonCdr2015) {
  expect_same_leg("esl_hangup_plain_cgrates_2015.txt", "json_cdr_cgrates_2015.json");
  // Both give 201507-e3133bf7-..., 63603499994, 66 s billed, NORMAL_CLEARING (PlainCgrates2015, json_cdr_samples_test).
  EXPECT_EQ(normalize_sample("json_cdr_cgrates_2015.json").str("id"), "201507-e3133bf7-dcde-4daf-9663-9a79ffcef5ad");
}

TEST(EslSamples, SameCallAsJsonCdr2018b) {
  expect_same_leg("esl_hangup_plain_cgrates_2018b.txt", "json_cdr_cgrates_2018b.json");
  EXPECT_EQ(normalize_sample("json_cdr_cgrates_2018b.json").num("timestamp"), 63688244988);
}

TEST(EslSamples, JsonEventNormalizesToTheSameRecord) {
  for (const char* name : {"esl_hangup_plain_cgrates_2014.txt", "esl_hangup_plain_cgrates_2015.txt",
                           "esl_hangup_plain_cgrates_2018a.txt", "esl_hangup_plain_cgrates_2018b.txt"}) {
    const std::string plain = complete_plain_body(read_sample(name));
    const std::string json_body = json_body_from_plain(plain);
    const EslEvent json_event = event_from_body(json_body, "text/event-json");
    const NormalizeResult from_plain = normalize_esl_event(event_from_body(plain), default_options());
    const NormalizeResult from_json = normalize_esl_event(json_event, default_options());
    ASSERT_TRUE(from_json.ok()) << name << ": " << from_json.error.message;
    EXPECT_EQ(from_json.record.json, from_plain.record.json) << name;
    EXPECT_EQ(from_json.record.raw, json_body) << name;
  }
}

TEST(EslSamples, OnlyHangupCompleteAndRequiredFields) {
  const NormalizeResult heartbeat =
      normalize_esl_event(event_from_body("Event-Name: HEARTBEAT\nCore-UUID: x\n\n"), default_options());
  EXPECT_EQ(heartbeat.error.code, "not_a_hangup");
  EXPECT_EQ(heartbeat.error.message, "ESL event HEARTBEAT is not CHANNEL_HANGUP_COMPLETE");

  const NormalizeResult no_uuid = normalize_esl_event(
      event_from_body("Event-Name: CHANNEL_HANGUP_COMPLETE\nvariable_start_uepoch: 1\n\n"), default_options());
  EXPECT_EQ(no_uuid.error.code, "missing_field");
  EXPECT_EQ(no_uuid.error.message, "variable_uuid is missing");

  // Without *_uepoch variables the caller profile's times give the same values.
  std::string plain = complete_plain_body(read_sample("esl_hangup_plain_cgrates_2015.txt"));
  plain = replace_all(plain, "variable_start_uepoch:", "variable_start_uepoch_gone:");
  plain = replace_all(plain, "variable_end_uepoch:", "variable_end_uepoch_gone:");
  const Record r = normalize_event(event_from_body(plain));
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  // Caller-Channel-Created-Time 1436280728471153, Caller-Channel-Hangup-Time 1436280794010851
  EXPECT_EQ(r.str("id"), "201507-e3133bf7-dcde-4daf-9663-9a79ffcef5ad");
  EXPECT_EQ(r.num("timestamp"), 63603499994);
  EXPECT_EQ(r.num("channel_created_time"), 1436280728471153);

  const std::string no_times = replace_all(plain, "Caller-Channel-Created-Time:", "X-Created:");
  const NormalizeResult missing = normalize_esl_event(event_from_body(no_times), default_options());
  EXPECT_EQ(missing.error.code, "missing_field");
  EXPECT_EQ(missing.error.message, "variable_start_uepoch is missing");
}

// Found by fuzz/esl_event_fuzzer: NUL bytes in a header value (raw or %00)
// reached the record, which jsonb refuses.
TEST(EslSamples, NulInAValueBecomesAReplacementCharacter) {
  const std::string plain = complete_plain_body(read_sample("esl_hangup_plain_cgrates_2018b.txt"));
  for (const std::string& nul : {std::string("%00"), std::string(1, '\0')}) {
    const std::string body = replace_all(plain, "variable_sip_user_agent: Jitsi2.10.5550Windows%2010",
                                         "variable_sip_user_agent: Jitsi" + nul + "Windows");
    const Record r = normalize_event(event_from_body(body));
    ASSERT_TRUE(r.ok()) << r.result().error.message;
    EXPECT_EQ(r.str("user_agent"), "Jitsi\xEF\xBF\xBDWindows");
    EXPECT_EQ(r.result().record.json.find("\\u0000"), std::string::npos);
  }
}

// Found by fuzz/esl_event_fuzzer: two variable names that differ only in
// invalid UTF-8 both became "...\uFFFD", one name twice in the record.
TEST(EslSamples, NamesThatBecomeTheSameKeepTheFirst) {
  std::string plain = complete_plain_body(read_sample("esl_hangup_plain_cgrates_2018b.txt"));
  // Header names are sent as they are (only values are percent-encoded).
  plain =
      "variable_cav_rate\xFE: first\nvariable_cav_rate\xFF: second\nvariable_ecallmgr_Owner\xFE: o1\n"
      "variable_ecallmgr_Owner\xFF: o2\n" +
      plain;
  const Record r = normalize_event(event_from_body(plain));
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.sub("custom_application_vars", "rate\xEF\xBF\xBD"), "first");
  EXPECT_EQ(r.doc()["custom_application_vars"].MemberCount(), 1u);
  EXPECT_EQ(r.sub("custom_channel_vars", "owner\xEF\xBF\xBD"), "o1");
  size_t owners = 0;
  for (const auto& m : r.doc()["custom_channel_vars"].GetObject()) {
    owners += std::string(m.name.GetString()) == "owner\xEF\xBF\xBD" ? 1 : 0;
  }
  EXPECT_EQ(owners, 1u);
}

TEST(EslSamples, LoopbackLegIsMarked) {
  // No real loopback capture exists (samples README); mod_loopback sets these variables.
  std::string plain = complete_plain_body(read_sample("esl_hangup_plain_cgrates_2018b.txt"));
  plain = "variable_is_loopback: 1\nvariable_other_loopback_leg_uuid: 11111111-2222\n" + plain;
  const Record r = normalize_event(event_from_body(plain));
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  ASSERT_TRUE(r.has("is_loopback"));
  EXPECT_TRUE(r.doc()["is_loopback"].GetBool());
  EXPECT_EQ(r.str("other_loopback_leg_uuid"), "11111111-2222");
  EXPECT_FALSE(normalize_event(plain_sample("esl_hangup_plain_cgrates_2018b.txt")).has("is_loopback"));
}

// The derived addresses, by the rules in json_cdr_samples_test.cpp DerivedAddresses, with the event
// header FreeSWITCH-IPv4 first for media_server_ip.
TEST(EslSamples, DerivedAddresses) {
  const struct {
    const char* sample;
    EslEvent event;
    Addresses want;
  } samples[] = {
      // FreeSWITCH-IPv4 "10.0.2.15" (not sip_local_network_addr "192.168.56.66"); variable_sip_network_ip
      // "192.168.56.1"; only sip_local_sdp_str: "c=IN IP4 192.168.56.66"; switch_r_sdp "c=IN IP4 192.168.56.1"
      {"plain 2014",
       plain_sample("esl_hangup_plain_cgrates_2014.txt"),
       {"10.0.2.15", "192.168.56.1", "192.168.56.66", "192.168.56.1"}},
      // header "10.0.3.15"; sip_network_ip "127.0.0.1"; rtp_local_sdp_str "c=IN IP4 10.0.3.15";
      // switch_r_sdp: media-level "c=IN IP4 10.0.3.15". The same as the JSON CDR of this call.
      {"plain 2015",
       plain_sample("esl_hangup_plain_cgrates_2015.txt"),
       {"10.0.3.15", "127.0.0.1", "10.0.3.15", "10.0.3.15"}},
      // header "10.0.2.15"; sip_network_ip "192.168.56.1"; SDPs "c=IN IP4 192.168.56.202" / "c=IN IP4 192.168.56.1"
      {"plain 2018a",
       plain_sample("esl_hangup_plain_cgrates_2018a.txt"),
       {"10.0.2.15", "192.168.56.1", "192.168.56.202", "192.168.56.1"}},
      {"plain 2018b",
       plain_sample("esl_hangup_plain_cgrates_2018b.txt"),
       {"10.0.2.15", "192.168.56.1", "192.168.56.202", "192.168.56.1"}},
      // header "88.198.12.156"; sip_network_ip "88.198.12.156"; parked before answer: no local SDP and no
      // local_media_ip, so no local_rtp_ip; switch_r_sdp "c=IN IP4 10.10.10.155"
      {"wire fsock 2012",
       wire_hangup(read_sample("esl_wire_inbound_fsock_2012_unanswered_cancel.txt").erase(91756, 14)),
       {"88.198.12.156", "88.198.12.156", "<absent>", "10.10.10.155"}},
      // header "10.0.1.93"; sip_network_ip "10.0.0.98"; SDPs "c=IN IP4 10.0.1.93" / "c=IN IP4 18.132.253.202"
      {"wire scalaesl",
       wire_hangup(read_sample("esl_wire_outbound_scalaesl_linger_hangup_complete.txt")),
       {"10.0.1.93", "10.0.0.98", "10.0.1.93", "18.132.253.202"}},
      // header "192.168.0.2"; no sip_network_ip: sip_received_ip "192.168.0.104"; no local SDP:
      // local_media_ip "192.168.0.2"; switch_r_sdp "c=IN IP4 190.52.138.225"
      // (The dump has a no-break space after "FreeSWITCH-IPv6:", so the dump reader would take that line as
      // the rest of FreeSWITCH-IPv4's value; it becomes a plain space here.)
      {"decoded fsdocs 2009",
       event_from_body(plain_body_from_decoded_dump(
           replace_all(read_sample("esl_hangup_decoded_fsdocs_2009_answered.txt"), "\xC2\xA0", " "))),
       {"192.168.0.2", "192.168.0.104", "192.168.0.2", "190.52.138.225"}},
      // both legs: header "188.166.185.82"; sip_network_ip "13.228.87.44"; SDPs "c=IN IP4 188.166.185.82" /
      // "c=IN IP4 13.228.87.44" (the dump's trailing padding is not part of the address)
      {"decoded libresbc A",
       decoded_sample("esl_hangup_decoded_libresbc_aleg.txt"),
       {"188.166.185.82", "13.228.87.44", "188.166.185.82", "13.228.87.44"}},
      {"decoded libresbc B",
       decoded_sample("esl_hangup_decoded_libresbc_bleg.txt"),
       {"188.166.185.82", "13.228.87.44", "188.166.185.82", "13.228.87.44"}},
  };
  for (const auto& s : samples) expect_addresses(normalize_event(s.event), s.want, s.sample);
}

}  // namespace
}  // namespace cdrd::test
