// Every mod_json_cdr sample, normalized, against values worked out by hand
// from the sample text (variables.* unless said otherwise). Formulas:
//   id          = YYYYMM of start_uepoch (UTC) + "-" + uuid
//   timestamp   = floor(end_uepoch / 1e6) + 62167219200
//   duration    = floor(end_uepoch / 1e6) - floor(start_uepoch / 1e6)
//   billing     = ceil(billmsec / 1000), billmsec = floor(end_uepoch / 1e3) - floor(answer_uepoch / 1e3)
//   ringing     = floor(progress_uepoch / 1e6) - floor(start_uepoch / 1e6), 0 when progress_uepoch is 0
#include <gtest/gtest.h>

#include "tests/adapters/sample_record.h"

namespace cdrd::test {
namespace {

TEST(JsonCdrSamples, Cgrates2013aOldLayoutUrlEncodedValues) {
  const Record r = normalize_sample("json_cdr_cgrates_2013a.json");
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("call_id"), "c8ccef5e-34c2-4fd2-9a2e-fa6f295f3a1e");
  // start_uepoch 1368707608847154 -> 1368707608 s = 2013-05-16T12:33:28Z (start_stamp 14:33:28 at +0200)
  EXPECT_EQ(r.str("id"), "201305-c8ccef5e-34c2-4fd2-9a2e-fa6f295f3a1e");
  // no account_id variable; domain_name "192.168.56.10"
  EXPECT_EQ(r.str("account_id"), "192.168.56.10");
  EXPECT_EQ(r.sub("custom_channel_vars", "account_id"), "192.168.56.10");
  // end_uepoch 1368707632287198 -> 1368707632 + 62167219200
  EXPECT_EQ(r.num("timestamp"), 63535926832);
  EXPECT_EQ(r.num("channel_created_time"), 1368707608847154);
  EXPECT_EQ(r.str("started_at"), "2013-05-16T12:33:28.847154Z");
  // answer_uepoch 1368707611310737 (answer_stamp 14:33:31 at +0200)
  EXPECT_EQ(r.str("answered_at"), "2013-05-16T12:33:31.310737Z");
  EXPECT_EQ(r.str("ended_at"), "2013-05-16T12:33:52.287198Z");
  // 1368707632 - 1368707608 = 24 (the CDR's duration "24")
  EXPECT_EQ(r.num("duration_seconds"), 24);
  // 1368707632287 - 1368707611310 = 20977 ms (billmsec "20977") -> 21
  EXPECT_EQ(r.num("billing_seconds"), 21);
  // progress_uepoch 1368707608927201: 1368707608 - 1368707608 = 0 (progresssec "0")
  EXPECT_EQ(r.num("ringing_seconds"), 0);
  // last_app "bridge": bridge_hangup_cause first
  EXPECT_EQ(r.str("hangup_cause"), "NORMAL_CLEARING");
  // last_bridge_proto_specific_hangup_cause "sip%3A200"
  EXPECT_EQ(r.str("hangup_code"), "sip:200");
  EXPECT_EQ(r.str("disposition"), "SUCCESS");
  EXPECT_EQ(r.str("call_direction"), "inbound");
  // callflow.caller_profile (the only profile, index 1)
  EXPECT_EQ(r.str("caller_id_name"), "1001");
  EXPECT_EQ(r.str("caller_id_number"), "1001");
  // no callee_id_* anywhere: destination_number "1002"
  EXPECT_EQ(r.str("callee_id_name"), "1002");
  EXPECT_EQ(r.str("callee_id_number"), "1002");
  // caller_profile.originatee.originatee_caller_profiles[0]
  EXPECT_EQ(r.str("other_leg_call_id"), "28262ed6-9d57-4dac-8f0b-9cad38cc5183");
  EXPECT_EQ(r.str("other_leg_caller_id_name"), "Extension 1001");
  EXPECT_EQ(r.str("other_leg_destination_number"), "1002");
  EXPECT_EQ(r.str("other_leg_direction"), "outbound");
  // "1001%40192.168.56.10" / "1002%40192.168.56.10"
  EXPECT_EQ(r.str("from_uri"), "1001@192.168.56.10");
  EXPECT_EQ(r.str("to_uri"), "1002@192.168.56.10");
  EXPECT_EQ(r.str("from"), "1001@192.168.56.10");
  EXPECT_EQ(r.str("request"), "1002@192.168.56.10");
  EXPECT_EQ(r.str("presence_id"), "1001@192.168.56.10");
  EXPECT_EQ(r.str("from_tag"), "d62e0dad");
  EXPECT_EQ(r.str("to_tag"), "4yBBm5aFZ22vN");
  EXPECT_EQ(r.str("user_agent"), "Jitsi2.2.4603.9615Linux");
  // switch_r_sdp "v%3D0%0D%0Ao%3D1001%200%201%20IN%20IP4%20192.168.56.1%0D%0A..."
  EXPECT_EQ(r.str("remote_sdp").substr(0, 40), "v=0\r\no=1001 0 1 IN IP4 192.168.56.1\r\ns=-");
  // only the pre-1.4 sip_local_sdp_str: "v%3D0%0Ao%3DFreeSWITCH%201368684450..."
  EXPECT_EQ(r.str("local_sdp").substr(0, 30), "v=0\no=FreeSWITCH 1368684450 13");
  // no top-level switchname, no switchname / FreeSWITCH-Hostname variable
  EXPECT_FALSE(r.has("media_server"));
  EXPECT_FALSE(r.has("sip_term_status"));
  EXPECT_EQ(r.str("leg"), "A");
  // answered with billmsec 20977 > 0
  EXPECT_EQ(r.str("billing_status"), "answered");
  EXPECT_EQ(r.str("interaction_id"), "c8ccef5e-34c2-4fd2-9a2e-fa6f295f3a1e");
  EXPECT_EQ(r.str("source"), "json_cdr");
  EXPECT_EQ(r.str("node"), "test-node");
  EXPECT_EQ(r.str("app_name"), "cdrd");
  EXPECT_EQ(r.str("app_version"), "9.9.9");
  EXPECT_FALSE(r.has("is_loopback"));
  EXPECT_FALSE(r.has("custom_sip_headers"));
  EXPECT_EQ(r.result().record.raw, read_sample("json_cdr_cgrates_2013a.json"));
  EXPECT_EQ(r.result().record.raw_format, "json");
}

TEST(JsonCdrSamples, Cgrates2013bDuplicateCallflowKeys) {
  const Record r = normalize_sample("json_cdr_cgrates_2013b.json");
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("call_id"), "01df56f4-d99a-4ef6-b7fe-b924b2415b7f");
  // start_uepoch 1375609854385581 -> 1375609854 s = 2013-08-04T09:50:54Z
  EXPECT_EQ(r.str("id"), "201308-01df56f4-d99a-4ef6-b7fe-b924b2415b7f");
  // no account variable, no domain_name (sip_to_host is not consulted by default)
  EXPECT_EQ(r.str("account_id"), "default");
  // end_uepoch 1375609860205563 -> 1375609860 + 62167219200
  EXPECT_EQ(r.num("timestamp"), 63542829060);
  EXPECT_EQ(r.num("channel_created_time"), 1375609854385581);
  EXPECT_EQ(r.str("started_at"), "2013-08-04T09:50:54.385581Z");
  EXPECT_EQ(r.str("answered_at"), "2013-08-04T09:50:56.285587Z");
  EXPECT_EQ(r.str("ended_at"), "2013-08-04T09:51:00.205563Z");
  // 1375609860 - 1375609854 = 6
  EXPECT_EQ(r.num("duration_seconds"), 6);
  // 1375609860205 - 1375609856285 = 3920 ms -> 4
  EXPECT_EQ(r.num("billing_seconds"), 4);
  // progress_uepoch 1375609854505584: same second as the start
  EXPECT_EQ(r.num("ringing_seconds"), 0);
  EXPECT_EQ(r.str("hangup_cause"), "NORMAL_CLEARING");
  // last_bridge_proto_specific_hangup_cause "sip:200"
  EXPECT_EQ(r.str("hangup_code"), "sip:200");
  EXPECT_EQ(r.str("call_direction"), "inbound");
  // The first `callflow` key is profile_index 2 (the current profile, after
  // the transfer): destination "dan"; the second, index 1, has "+4986517174963".
  EXPECT_EQ(r.str("caller_id_name"), "dan");
  EXPECT_EQ(r.str("caller_id_number"), "dan");
  EXPECT_EQ(r.str("callee_id_name"), "dan");
  EXPECT_EQ(r.str("callee_id_number"), "dan");
  // originatee of profile 2
  EXPECT_EQ(r.str("other_leg_call_id"), "8f7c860f-0619-4d3c-9515-cc23b0fa3997");
  EXPECT_EQ(r.str("from_uri"), "dan@ipbx.itsyscom.com");
  EXPECT_EQ(r.str("to_uri"), "+4986517174963@ipbx.itsyscom.com");
  EXPECT_EQ(r.str("to"), "+4986517174963@ipbx.itsyscom.com");
  EXPECT_EQ(r.str("request"), "+4986517174963@127.0.0.1");
  EXPECT_FALSE(r.has("media_server"));
  EXPECT_EQ(r.str("leg"), "A");
  EXPECT_EQ(r.str("billing_status"), "answered");
  EXPECT_EQ(r.str("interaction_id"), "01df56f4-d99a-4ef6-b7fe-b924b2415b7f");
  // sip_h_X-* variables, in Kazoo's key spelling (sip_h_X-AuthType -> x_authtype)
  EXPECT_EQ(r.sub("custom_sip_headers", "x_authtype"), "SUA");
  EXPECT_EQ(r.sub("custom_sip_headers", "x_authuser"), "dan");
  EXPECT_EQ(r.sub("custom_sip_headers", "x_authdomain"), "ipbx.itsyscom.com");
  EXPECT_EQ(r.sub("custom_sip_headers", "x_balancerip"), "2.3.4.5");
  EXPECT_EQ(r.doc()["custom_sip_headers"].MemberCount(), 4u);
}

TEST(JsonCdrSamples, Cgrates2015DuplicateCallflowKeysAndSwitchname) {
  const Record r = normalize_sample("json_cdr_cgrates_2015.json");
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("call_id"), "e3133bf7-dcde-4daf-9663-9a79ffcef5ad");
  // start_uepoch 1436280728471153 -> 2015-07-07T14:52:08Z
  EXPECT_EQ(r.str("id"), "201507-e3133bf7-dcde-4daf-9663-9a79ffcef5ad");
  EXPECT_EQ(r.str("account_id"), "cgrates.org");  // domain_name
  // end_uepoch 1436280794010851 -> 1436280794 + 62167219200
  EXPECT_EQ(r.num("timestamp"), 63603499994);
  EXPECT_EQ(r.num("channel_created_time"), 1436280728471153);
  EXPECT_EQ(r.str("started_at"), "2015-07-07T14:52:08.471153Z");
  EXPECT_EQ(r.str("answered_at"), "2015-07-07T14:52:08.971147Z");
  EXPECT_EQ(r.str("ended_at"), "2015-07-07T14:53:14.010851Z");
  // 1436280794 - 1436280728 = 66
  EXPECT_EQ(r.num("duration_seconds"), 66);
  // 1436280794010 - 1436280728971 = 65039 ms -> 66
  EXPECT_EQ(r.num("billing_seconds"), 66);
  // progress_uepoch "0"
  EXPECT_EQ(r.num("ringing_seconds"), 0);
  // last_app "sched_hangup": hangup_cause first
  EXPECT_EQ(r.str("hangup_cause"), "NORMAL_CLEARING");
  // proto_specific_hangup_cause "sip:200"
  EXPECT_EQ(r.str("hangup_code"), "sip:200");
  EXPECT_EQ(r.str("call_direction"), "inbound");
  EXPECT_EQ(r.str("caller_id_name"), "1001");
  EXPECT_EQ(r.str("caller_id_number"), "1001");
  EXPECT_EQ(r.str("callee_id_name"), "1003");
  EXPECT_EQ(r.str("callee_id_number"), "1003");
  EXPECT_EQ(r.str("other_leg_call_id"), "0a30dd7c-c222-482f-a322-b1218a15f8cd");
  EXPECT_EQ(r.str("from_uri"), "1001@127.0.0.1");
  EXPECT_EQ(r.str("to_uri"), "1003@127.0.0.1");
  // top-level "switchname":"CgrDev1"
  EXPECT_EQ(r.str("media_server"), "CgrDev1");
  EXPECT_EQ(r.str("sip_term_status"), "200");
  EXPECT_EQ(r.str("user_agent"), "PJSUA v2.3 Linux-3.2.0.4/x86_64/glibc-2.13");
  EXPECT_EQ(r.str("leg"), "A");
  EXPECT_EQ(r.str("billing_status"), "answered");
  EXPECT_EQ(r.str("interaction_id"), "e3133bf7-dcde-4daf-9663-9a79ffcef5ad");
}

TEST(JsonCdrSamples, Cgrates2017CallflowArray) {
  const Record r = normalize_sample("json_cdr_cgrates_2017.json");
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("call_id"), "3da8bf84-c133-4959-9e24-e72875cb33a1");
  // start_uepoch 1515666344534355 -> 2018-01-11T10:25:44Z
  EXPECT_EQ(r.str("id"), "201801-3da8bf84-c133-4959-9e24-e72875cb33a1");
  // no account variable, no domain_name
  EXPECT_EQ(r.str("account_id"), "default");
  // end_uepoch 1515666415494269 -> 1515666415 + 62167219200
  EXPECT_EQ(r.num("timestamp"), 63682885615);
  EXPECT_EQ(r.num("channel_created_time"), 1515666344534355);
  EXPECT_EQ(r.str("started_at"), "2018-01-11T10:25:44.534355Z");
  EXPECT_EQ(r.str("answered_at"), "2018-01-11T10:25:47.954373Z");
  EXPECT_EQ(r.str("ended_at"), "2018-01-11T10:26:55.494269Z");
  // 1515666415 - 1515666344 = 71
  EXPECT_EQ(r.num("duration_seconds"), 71);
  // 1515666415494 - 1515666347954 = 67540 ms -> 68
  EXPECT_EQ(r.num("billing_seconds"), 68);
  // progress_uepoch 1515666344594267: same second as the start
  EXPECT_EQ(r.num("ringing_seconds"), 0);
  EXPECT_EQ(r.str("hangup_cause"), "NORMAL_CLEARING");
  EXPECT_EQ(r.str("hangup_code"), "sip:200");
  EXPECT_EQ(r.str("call_direction"), "inbound");
  EXPECT_EQ(r.str("caller_id_name"), "1001");
  EXPECT_EQ(r.str("caller_id_number"), "1001");
  EXPECT_EQ(r.str("callee_id_name"), "1002");
  EXPECT_EQ(r.str("callee_id_number"), "1002");
  EXPECT_EQ(r.str("other_leg_call_id"), "f52c26f1-b018-4963-bf6d-a3111d1a0320");
  EXPECT_EQ(r.str("from_uri"), "1001@10.10.10.204");
  EXPECT_EQ(r.str("to_uri"), "1002@10.10.10.204");
  EXPECT_EQ(r.str("media_server"), "FSDev1");
  EXPECT_EQ(r.str("leg"), "A");
  EXPECT_EQ(r.str("billing_status"), "answered");
  EXPECT_EQ(r.str("interaction_id"), "3da8bf84-c133-4959-9e24-e72875cb33a1");
  EXPECT_EQ(r.str("digits_dialed"), "none");
}

TEST(JsonCdrSamples, Cgrates2018aAnsweredButBillsecRoundsUp) {
  const Record r = normalize_sample("json_cdr_cgrates_2018a.json");
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("call_id"), "5282f87c-368c-43a2-babd-bc63ff12dc79");
  // start_uepoch 1520944103557418 -> 2018-03-13T12:28:23Z
  EXPECT_EQ(r.str("id"), "201803-5282f87c-368c-43a2-babd-bc63ff12dc79");
  EXPECT_EQ(r.str("account_id"), "192.168.56.202");  // domain_name
  // end_uepoch 1520944164057232 -> 1520944164 + 62167219200
  EXPECT_EQ(r.num("timestamp"), 63688163364);
  EXPECT_EQ(r.num("channel_created_time"), 1520944103557418);
  EXPECT_EQ(r.str("started_at"), "2018-03-13T12:28:23.557418Z");
  EXPECT_EQ(r.str("ended_at"), "2018-03-13T12:29:24.057232Z");
  // 1520944164 - 1520944103 = 61
  EXPECT_EQ(r.num("duration_seconds"), 61);
  // 1520944164057 - 1520944105037 = 59020 ms -> 60 (the CDR's floored billsec says 59)
  EXPECT_EQ(r.num("billing_seconds"), 60);
  EXPECT_EQ(r.num("ringing_seconds"), 0);
  // last_app "sched_hangup": hangup_cause "NORMAL_CLEARING"
  EXPECT_EQ(r.str("hangup_cause"), "NORMAL_CLEARING");
  // only last_bridge_proto_specific_hangup_cause is set
  EXPECT_EQ(r.str("hangup_code"), "sip:200");
  EXPECT_EQ(r.str("call_direction"), "inbound");
  EXPECT_EQ(r.str("caller_id_name"), "1001");
  EXPECT_EQ(r.str("caller_id_number"), "1001");
  EXPECT_EQ(r.str("callee_id_name"), "1002");
  EXPECT_EQ(r.str("callee_id_number"), "1002");
  EXPECT_EQ(r.str("other_leg_call_id"), "fa3173aa-3c1a-41e5-ab82-60623396fa08");
  EXPECT_EQ(r.str("from_uri"), "1001@192.168.56.202");
  EXPECT_EQ(r.str("to_uri"), "1002@192.168.56.202");
  EXPECT_EQ(r.str("media_server"), "teo");
  EXPECT_EQ(r.str("leg"), "A");
  EXPECT_EQ(r.str("billing_status"), "answered");
  EXPECT_EQ(r.str("interaction_id"), "5282f87c-368c-43a2-babd-bc63ff12dc79");
}

TEST(JsonCdrSamples, Cgrates2018bHoldAndArrayValues) {
  const Record r = normalize_sample("json_cdr_cgrates_2018b.json");
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("call_id"), "5a3a1d91-90d3-4db4-af5c-cc3ae15d93a4");
  // start_uepoch 1521025758006702 -> 2018-03-14T11:09:18Z
  EXPECT_EQ(r.str("id"), "201803-5a3a1d91-90d3-4db4-af5c-cc3ae15d93a4");
  EXPECT_EQ(r.str("account_id"), "192.168.56.202");
  // end_uepoch 1521025788366141 -> 1521025788 + 62167219200
  EXPECT_EQ(r.num("timestamp"), 63688244988);
  EXPECT_EQ(r.num("channel_created_time"), 1521025758006702);
  EXPECT_EQ(r.str("answered_at"), "2018-03-14T11:09:27.766321Z");
  // 1521025788 - 1521025758 = 30
  EXPECT_EQ(r.num("duration_seconds"), 30);
  // 1521025788366 - 1521025767766 = 20600 ms -> 21
  EXPECT_EQ(r.num("billing_seconds"), 21);
  EXPECT_EQ(r.num("ringing_seconds"), 0);
  EXPECT_EQ(r.str("hangup_cause"), "NORMAL_CLEARING");
  // proto_specific_hangup_cause "sip:200"
  EXPECT_EQ(r.str("hangup_code"), "sip:200");
  EXPECT_EQ(r.str("call_direction"), "inbound");
  EXPECT_EQ(r.str("caller_id_name"), "1001");
  EXPECT_EQ(r.str("caller_id_number"), "1001");
  EXPECT_EQ(r.str("callee_id_name"), "1002");
  EXPECT_EQ(r.str("callee_id_number"), "1002");
  EXPECT_EQ(r.str("other_leg_call_id"), "9c1afb4f-1d4a-4e45-84a3-d25721981bf5");
  EXPECT_EQ(r.str("from_uri"), "1001@192.168.56.202");
  EXPECT_EQ(r.str("to_uri"), "1002@192.168.56.202");
  EXPECT_EQ(r.str("media_server"), "teo");
  EXPECT_EQ(r.str("sip_term_status"), "200");
  EXPECT_EQ(r.str("leg"), "A");
  EXPECT_EQ(r.str("billing_status"), "answered");
  EXPECT_EQ(r.str("interaction_id"), "5a3a1d91-90d3-4db4-af5c-cc3ae15d93a4");
}

// The derived addresses (cdrd's own rules; cdr-fields.md has none):
//   media_server_ip = variable FreeSWITCH-IPv4, else sip_local_network_addr, else local_media_ip
//   sip_network_ip  = sip_network_ip, else sip_received_ip
//   local_rtp_ip    = the c= address of the local SDP (rtp_local_sdp_str, else sip_local_sdp_str):
//                     session level, else the first media level; else local_media_ip
//   remote_rtp_ip   = the same for switch_r_sdp, else remote_media_ip
TEST(JsonCdrSamples, DerivedAddresses) {
  const struct {
    const char* sample;
    Addresses want;
  } samples[] = {
      // no FreeSWITCH-IPv4; sip_local_network_addr "192.168.56.10"; sip_network_ip "192.168.56.1";
      // sip_local_sdp_str session "c=IN IP4 192.168.56.10"; switch_r_sdp session "c=IN IP4 192.168.56.1"
      {"json_cdr_cgrates_2013a.json", {"192.168.56.10", "192.168.56.1", "192.168.56.10", "192.168.56.1"}},
      // sip_local_network_addr "127.0.0.1"; sip_network_ip "2.3.4.5"; sip_local_sdp_str "c=IN IP4 2.3.4.5";
      // switch_r_sdp "c=IN IP4 10.10.10.154" (the SDP wins over remote_media_ip "1.2.3.4", the NATed source)
      {"json_cdr_cgrates_2013b.json", {"127.0.0.1", "2.3.4.5", "2.3.4.5", "10.10.10.154"}},
      // variable FreeSWITCH-IPv4 "10.0.3.15" (kept from a REQUEST_PARAMS lookup; the ESL event of the same
      // call has the header with this value); sip_network_ip "127.0.0.1"; rtp_local_sdp_str
      // "c=IN IP4 10.0.3.15"; switch_r_sdp has no session c=, its first m= section has "c=IN IP4 10.0.3.15"
      {"json_cdr_cgrates_2015.json", {"10.0.3.15", "127.0.0.1", "10.0.3.15", "10.0.3.15"}},
      // no FreeSWITCH-IPv4; sip_local_network_addr "10.10.10.204"; sip_network_ip "10.10.10.100";
      // rtp_local_sdp_str "c=IN IP4 10.10.10.204"; switch_r_sdp "c=IN IP4 10.10.10.100"
      {"json_cdr_cgrates_2017.json", {"10.10.10.204", "10.10.10.100", "10.10.10.204", "10.10.10.100"}},
      // FreeSWITCH-IPv4 "10.0.2.15"; sip_network_ip "192.168.56.1"; rtp_local_sdp_str
      // "c=IN IP4 192.168.56.202"; switch_r_sdp "c=IN IP4 192.168.56.1"
      {"json_cdr_cgrates_2018a.json", {"10.0.2.15", "192.168.56.1", "192.168.56.202", "192.168.56.1"}},
      // the same values as 2018a
      {"json_cdr_cgrates_2018b.json", {"10.0.2.15", "192.168.56.1", "192.168.56.202", "192.168.56.1"}},
  };
  for (const auto& s : samples) expect_addresses(normalize_sample(s.sample), s.want, s.sample);
}

TEST(JsonCdrRules, RtpAddressFromTheSdpConnectionLine) {
  const std::string base = read_sample("json_cdr_cgrates_2017.json");
  const auto remote_rtp = [&](const std::string& sdp) {
    return normalize_text(with_variables(base, "\"switch_r_sdp\":\"" + sdp + "\"")).str("remote_rtp_ip");
  };
  // The session-level c= line wins over a media-level one, whatever their order in the text.
  EXPECT_EQ(remote_rtp("v=0\\r\\nc=IN IP4 192.0.2.1\\r\\nm=audio 4000 RTP/AVP 0\\r\\nc=IN IP4 192.0.2.2\\r\\n"),
            "192.0.2.1");
  // No session-level c=: the first media-level one; LF line ends; a multicast /ttl is not part of the address.
  EXPECT_EQ(remote_rtp("v=0\\nm=audio 4000 RTP/AVP 0\\nc=IN IP4 233.252.0.1/127\\nm=video 4002 RTP/AVP 31\\n"
                       "c=IN IP4 192.0.2.9\\n"),
            "233.252.0.1");
  EXPECT_EQ(remote_rtp("v=0\\r\\nc=IN IP6 2001:db8::1\\r\\n"), "2001:db8::1");
  // An SDP without a usable c= line: remote_media_ip "10.10.10.100".
  EXPECT_EQ(remote_rtp("v=0\\r\\nc=IN IP4\\r\\nm=audio 4000 RTP/AVP 0\\r\\n"), "10.10.10.100");
  // Nothing at all: the field is left out.
  std::string bare = replace_all(base, "\"switch_r_sdp\"", "\"switch_r_sdp_gone\"");
  bare = replace_all(bare, "\"remote_media_ip\"", "\"remote_media_ip_gone\"");
  EXPECT_FALSE(normalize_text(bare).has("remote_rtp_ip"));
}

}  // namespace
}  // namespace cdrd::test
