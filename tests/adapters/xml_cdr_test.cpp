// mod_xml_cdr: both XML samples normalized, against values worked out by hand
// from the sample text (<variables><X> unless said otherwise), the transport
// decoding, and the refusals. Formulas:
//   id          = YYYYMM of start_uepoch (UTC) + "-" + uuid
//   timestamp   = floor(end_uepoch / 1e6) + 62167219200
//   duration    = floor(end_uepoch / 1e6) - floor(start_uepoch / 1e6)
//   billing     = ceil(billmsec / 1000), 0 when answer_uepoch is 0
//   ringing     = floor(progress_uepoch / 1e6) - floor(start_uepoch / 1e6), 0 when progress_uepoch is 0
#include <gtest/gtest.h>

#include "adapters/freeswitch/normalize.h"
#include "tests/adapters/body_encoding.h"
#include "tests/adapters/sample_record.h"

namespace cdrd::test {
namespace {

constexpr char kTiny[] = "xml_cdr_tinycdr_2009_originator_cancel.xml";
constexpr char kDocs[] = "xml_cdr_fsdocs_2014_refused_unanswered.xml";

Record normalize_xml(const std::string& xml, const NormalizeOptions& options = default_options(),
                     const std::string& uuid_param = "") {
  return Record(normalize_xml_cdr(xml, options, uuid_param));
}

NormalizeError xml_error(const std::string& xml) {
  const NormalizeResult result = normalize_xml_cdr(xml, default_options());
  EXPECT_FALSE(result.ok());
  return result.error;
}

std::string decoded(const std::string& body) {
  std::string xml;
  NormalizeError error;
  EXPECT_TRUE(decode_xml_cdr_body(body, &xml, &error)) << error.code << ": " << error.message;
  return xml;
}

NormalizeError refused(const std::string& body) {
  std::string xml;
  NormalizeError error;
  EXPECT_FALSE(decode_xml_cdr_body(body, &xml, &error));
  return error;
}

TEST(XmlCdrSamples, Tinycdr2009OldLayoutOriginatorCancel) {
  const Record r = normalize_xml(read_sample(kTiny));
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  // FreeSWITCH 1.0 lists no <uuid> variable: the caller profile's <uuid>.
  EXPECT_EQ(r.str("call_id"), "91353230-461f-11de-aa7f-b10b4edc0c92");
  // start_uepoch 1242921226180441 -> 1242921226 s = 2009-05-21T15:53:46Z
  // (start_stamp "2009-05-21 10:53:46" is the server's local time, UTC-5)
  EXPECT_EQ(r.str("id"), "200905-91353230-461f-11de-aa7f-b10b4edc0c92");
  // no account variable; domain_name "192.168.6.32"
  EXPECT_EQ(r.str("account_id"), "192.168.6.32");
  EXPECT_EQ(r.sub("custom_channel_vars", "account_id"), "192.168.6.32");
  // end_uepoch 1242921227691068 -> 1242921227 + 62167219200 = 63410140427
  EXPECT_EQ(r.num("timestamp"), 63410140427);
  EXPECT_EQ(r.num("channel_created_time"), 1242921226180441);
  EXPECT_EQ(r.str("started_at"), "2009-05-21T15:53:46.180441Z");
  EXPECT_EQ(r.str("ended_at"), "2009-05-21T15:53:47.691068Z");
  // answer_uepoch 0 (and <times><answered_time> 0): never answered
  EXPECT_FALSE(r.has("answered_at"));
  // 1242921227 - 1242921226 = 1 (the CDR's duration "1")
  EXPECT_EQ(r.num("duration_seconds"), 1);
  EXPECT_EQ(r.num("billing_seconds"), 0);
  // progress_uepoch 1242921226580377: 1242921226 - 1242921226 = 0 (progresssec "0")
  EXPECT_EQ(r.num("ringing_seconds"), 0);
  // last_app "bridge": no originate_failed_cause, so bridge_hangup_cause
  // NORMAL_CLEARING comes before hangup_cause ORIGINATOR_CANCEL (cdr-fields.md)
  EXPECT_EQ(r.str("hangup_cause"), "NORMAL_CLEARING");
  // not answered, and the leg's own hangup_cause is ORIGINATOR_CANCEL: the
  // caller gave up before an answer -> noanswer
  EXPECT_EQ(r.str("billing_status"), "noanswer");
  // proto_specific_hangup_cause "sip%3A487"
  EXPECT_EQ(r.str("hangup_code"), "sip:487");
  // originate_disposition "SUCCESS" comes before endpoint_disposition "EARLY%20MEDIA"
  EXPECT_EQ(r.str("disposition"), "SUCCESS");
  EXPECT_EQ(r.str("sip_term_status"), "487");
  // no direction variable and no <channel_data> in a 1.0 document
  EXPECT_FALSE(r.has("call_direction"));
  // <callflow><caller_profile> (the only profile, profile_index 1)
  EXPECT_EQ(r.str("caller_id_name"), "Jayson Vaughn");
  EXPECT_EQ(r.str("caller_id_number"), "1000");
  // no callee_id_* anywhere: destination_number "2622"
  EXPECT_EQ(r.str("callee_id_name"), "2622");
  EXPECT_EQ(r.str("callee_id_number"), "2622");
  // <originatee><originatee_caller_profile>
  EXPECT_EQ(r.str("other_leg_call_id"), "913d2a1c-461f-11de-aa7f-b10b4edc0c92");
  EXPECT_EQ(r.str("other_leg_caller_id_name"), "Extension 1000");
  EXPECT_EQ(r.str("other_leg_caller_id_number"), "1000");
  EXPECT_EQ(r.str("other_leg_destination_number"), "2622");
  EXPECT_EQ(r.str("other_leg_direction"), "outbound");
  // "1000%40192.168.6.32" / "2622%40192.168.6.32"
  EXPECT_EQ(r.str("from_uri"), "1000@192.168.6.32");
  EXPECT_EQ(r.str("to_uri"), "2622@192.168.6.32");
  EXPECT_EQ(r.str("from"), "1000@192.168.6.32");
  EXPECT_EQ(r.str("to"), "2622@192.168.6.32");
  EXPECT_EQ(r.str("request"), "2622@192.168.6.32");
  EXPECT_EQ(r.str("presence_id"), "1000@192.168.6.32");
  EXPECT_EQ(r.str("from_tag"), "mscmt");
  EXPECT_FALSE(r.has("to_tag"));
  EXPECT_EQ(r.str("user_agent"), "Twinkle/1.2");
  EXPECT_EQ(r.str("digits_dialed"), "none");
  // switch_r_sdp "v%3D0%0D%0Ao%3Dtwinkle%20762635683%20846376332%20IN%20IP4%20192.168.6.32%0D%0A..."
  EXPECT_EQ(r.str("remote_sdp").substr(0, 50), "v=0\r\no=twinkle 762635683 846376332 IN IP4 192.168.");
  EXPECT_FALSE(r.has("local_sdp"));
  EXPECT_FALSE(r.has("media_server"));
  // no originator profile, no originator variable
  EXPECT_EQ(r.str("leg"), "A");
  EXPECT_EQ(r.str("interaction_id"), "91353230-461f-11de-aa7f-b10b4edc0c92");
  EXPECT_EQ(r.str("source"), "xml_cdr");
  EXPECT_EQ(r.str("node"), "test-node");
  EXPECT_EQ(r.str("app_name"), "cdrd");
  EXPECT_FALSE(r.has("is_loopback"));
  EXPECT_EQ(r.result().record.raw, read_sample(kTiny));
  EXPECT_EQ(r.result().record.raw_format, "xml");
}

TEST(XmlCdrSamples, Fsdocs2014RefusedUnanswered) {
  const Record r = normalize_xml(read_sample(kDocs));
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("call_id"), "80183ec8-d424-11e3-8fb2-65b6c3cdac7d");
  // start_uepoch 1399273898421766 -> 1399273898 s = 2014-05-05T07:11:38Z
  // (RFC2822_DATE "Mon, 05 May 2014 07:11:38 +0000")
  EXPECT_EQ(r.str("id"), "201405-80183ec8-d424-11e3-8fb2-65b6c3cdac7d");
  // no account variable, no domain_name: the default account
  EXPECT_EQ(r.str("account_id"), "default");
  // end_uepoch 1399273898421766 -> 1399273898 + 62167219200 = 63566493098
  EXPECT_EQ(r.num("timestamp"), 63566493098);
  EXPECT_EQ(r.num("channel_created_time"), 1399273898421766);
  EXPECT_EQ(r.str("started_at"), "2014-05-05T07:11:38.421766Z");
  EXPECT_EQ(r.str("ended_at"), "2014-05-05T07:11:38.421766Z");
  EXPECT_FALSE(r.has("answered_at"));
  // 1399273898 - 1399273898 = 0 (duration "0"); answer_uepoch 0; progress_uepoch 0
  EXPECT_EQ(r.num("duration_seconds"), 0);
  EXPECT_EQ(r.num("billing_seconds"), 0);
  EXPECT_EQ(r.num("ringing_seconds"), 0);
  // last_app "export": originate_failed_cause (absent), then hangup_cause
  EXPECT_EQ(r.str("hangup_cause"), "NORMAL_CLEARING");
  EXPECT_EQ(r.str("billing_status"), "failed");
  // neither proto_specific_hangup_cause nor last_bridge_proto_specific_hangup_cause
  EXPECT_FALSE(r.has("hangup_code"));
  // no originate_disposition; endpoint_disposition "DELAYED%20NEGOTIATION"
  EXPECT_EQ(r.str("disposition"), "DELAYED NEGOTIATION");
  EXPECT_FALSE(r.has("sip_term_status"));
  // variables.direction "inbound" (and <channel_data><direction>)
  EXPECT_EQ(r.str("call_direction"), "inbound");
  EXPECT_EQ(r.str("caller_id_name"), "8009");
  EXPECT_EQ(r.str("caller_id_number"), "8009");
  // <callee_id_name></callee_id_name> is empty: destination_number
  EXPECT_EQ(r.str("callee_id_name"), "003468888646444");
  EXPECT_EQ(r.str("callee_id_number"), "003468888646444");
  // refused at once: no other leg, no bridge_uuid / signal_bond / originator
  EXPECT_FALSE(r.has("other_leg_call_id"));
  EXPECT_FALSE(r.has("other_leg_caller_id_name"));
  // "8009%40XX.XX.XXX.XXX" / "003468888646444%40XX.XX.XXX.XXX"
  EXPECT_EQ(r.str("from_uri"), "8009@XX.XX.XXX.XXX");
  EXPECT_EQ(r.str("to_uri"), "003468888646444@XX.XX.XXX.XXX");
  EXPECT_EQ(r.str("request"), "003468888646444@XX.XX.XXX.XXX");
  EXPECT_EQ(r.str("from_tag"), "1df994ea");
  EXPECT_EQ(r.str("user_agent"), "sipcli/v1.8");
  // no switchname attribute (the 2014 format has core-uuid only)
  EXPECT_FALSE(r.has("media_server"));
  EXPECT_EQ(r.str("leg"), "A");
  EXPECT_EQ(r.str("interaction_id"), "80183ec8-d424-11e3-8fb2-65b6c3cdac7d");
  EXPECT_EQ(r.str("source"), "xml_cdr");
  EXPECT_EQ(r.result().record.raw_format, "xml");
}

TEST(XmlCdrRules, OriginatorProfileMakesABLeg) {
  // The tinycdr leg turned into the leg that was originated.
  std::string xml = replace_all(read_sample(kTiny), "originatee", "originator");
  const Record r = normalize_xml(xml);
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("leg"), "B");
  EXPECT_EQ(r.str("other_leg_call_id"), "913d2a1c-461f-11de-aa7f-b10b4edc0c92");
  EXPECT_EQ(r.str("interaction_id"), "913d2a1c-461f-11de-aa7f-b10b4edc0c92");
  EXPECT_FALSE(r.has("other_leg_direction"));
  // ?uuid=a_... marks the A-leg whatever the profiles say.
  const Record a = normalize_xml(xml, default_options(), "a_91353230-461f-11de-aa7f-b10b4edc0c92");
  EXPECT_EQ(a.str("leg"), "A");
}

TEST(XmlCdrRules, HighestProfileIndexIsTheCurrentProfile) {
  const std::string doc = read_sample(kDocs);
  const size_t at = doc.find("  <callflow ");
  ASSERT_NE(at, std::string::npos);
  // A transfer: the newer profile (index 2) comes first in the document.
  const std::string newer =
      "  <callflow dialplan=\"XML\" profile_index=\"2\"><caller_profile><caller_id_name>Transferred</caller_id_name>"
      "<caller_id_number>8009</caller_id_number><destination_number>4000</destination_number>"
      "<uuid>80183ec8-d424-11e3-8fb2-65b6c3cdac7d</uuid></caller_profile></callflow>\n";
  const Record r = normalize_xml(doc.substr(0, at) + newer + doc.substr(at));
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("caller_id_name"), "Transferred");
  EXPECT_EQ(r.str("callee_id_number"), "4000");
}

TEST(XmlCdrRules, EscapesCdataAndPercentEncodingAreDecoded) {
  std::string xml = replace_all(read_sample(kDocs), "<sip_user_agent>sipcli/v1.8</sip_user_agent>",
                                "<sip_user_agent>a&amp;b%20c+d</sip_user_agent>");
  xml = replace_all(xml, "<sip_from_tag>1df994ea</sip_from_tag>", "<sip_from_tag><![CDATA[<t%3D1>]]></sip_from_tag>");
  const Record r = normalize_xml(xml);
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  // XML escape first (pugixml), then %XX; '+' in a variable value is a plus.
  EXPECT_EQ(r.str("user_agent"), "a&b c+d");
  EXPECT_EQ(r.str("from_tag"), "<t=1>");
}

TEST(XmlCdrRules, VariableUuidWinsOverTheProfile) {
  const std::string xml =
      replace_all(read_sample(kDocs), "<uuid>80183ec8-d424-11e3-8fb2-65b6c3cdac7d</uuid>\n    <session_id>",
                  "<uuid>11111111-2222-3333-4444-555555555555</uuid>\n    <session_id>");
  const Record r = normalize_xml(xml);
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("call_id"), "11111111-2222-3333-4444-555555555555");
}

TEST(XmlCdrErrors, NotXml) {
  const NormalizeError e = xml_error("this is {not xml");
  EXPECT_EQ(e.code, "invalid_xml");
  // pugixml reads to the end (16 bytes) without finding an element.
  EXPECT_EQ(e.message, "XML parse error at offset 16: No document element found");
}

TEST(XmlCdrErrors, TruncatedXml) {
  const std::string doc = read_sample(kDocs);
  // Cut inside <variables>, in the middle of the first <uuid> value.
  const size_t cut = doc.find("80183ec8") + 4;
  const NormalizeError e = xml_error(doc.substr(0, cut));
  EXPECT_EQ(e.code, "invalid_xml");
  // pugixml reports the mismatch at the last byte it read (cut - 1).
  EXPECT_EQ(e.message, "XML parse error at offset " + std::to_string(cut - 1) + ": Start-end tags mismatch");
}

TEST(XmlCdrErrors, NulByteAndEmptyAndWrongRoot) {
  const NormalizeError nul = xml_error(std::string("<cdr>\0<variables/></cdr>", 24));
  EXPECT_EQ(nul.code, "invalid_xml");
  EXPECT_EQ(nul.message, "XML parse error at offset 5: NUL byte in the document");
  const NormalizeError empty = xml_error(" \r\n");
  EXPECT_EQ(empty.code, "empty_body");
  EXPECT_EQ(empty.message, "the XML CDR is empty");
  const NormalizeError root = xml_error("<?xml version=\"1.0\"?>\n<html><body/></html>");
  EXPECT_EQ(root.code, "invalid_xml");
  EXPECT_EQ(root.message, "the root element is <html>, not <cdr>");
}

TEST(XmlCdrErrors, NoVariables) {
  std::string xml = replace_all(read_sample(kDocs), "<variables>", "<vars>");
  xml = replace_all(xml, "</variables>", "</vars>");
  const NormalizeError e = xml_error(xml);
  EXPECT_EQ(e.code, "missing_field");
  EXPECT_EQ(e.message, "variables is missing");
}

TEST(XmlCdrErrors, MissingUuidEverywhere) {
  // Neither <variables><uuid> nor <caller_profile><uuid>.
  std::string xml = replace_all(read_sample(kDocs), "<uuid>", "<uuid_gone>");
  xml = replace_all(xml, "</uuid>", "</uuid_gone>");
  const NormalizeError e = xml_error(xml);
  EXPECT_EQ(e.code, "missing_field");
  EXPECT_EQ(e.message, "variables.uuid is missing");
}

TEST(XmlCdrErrors, MissingOrBadEndUepoch) {
  const std::string doc = read_sample(kDocs);
  const NormalizeError missing =
      xml_error(replace_all(doc, "<end_uepoch>1399273898421766</end_uepoch>", "<end_uepoch></end_uepoch>"));
  EXPECT_EQ(missing.code, "missing_field");
  EXPECT_EQ(missing.message, "variables.end_uepoch is missing");
  const NormalizeError bad =
      xml_error(replace_all(doc, "<end_uepoch>1399273898421766</end_uepoch>", "<end_uepoch>soon</end_uepoch>"));
  EXPECT_EQ(bad.code, "invalid_value");
  EXPECT_EQ(bad.message, "variables.end_uepoch is not a time in microseconds since the Unix epoch: 'soon'");
}

TEST(XmlCdrBody, RawXmlAsIs) {
  const std::string doc = read_sample(kTiny);
  EXPECT_EQ(decoded(doc), doc);
  EXPECT_EQ(decoded("\n  " + doc), "\n  " + doc);
  EXPECT_EQ(decoded("\xEF\xBB\xBF<cdr/>"), "\xEF\xBB\xBF<cdr/>");
}

TEST(XmlCdrBody, UrlEncodedFormField) {
  const std::string doc = read_sample(kTiny);
  // switch_url_encode's %20 for a space, or an HTML form's '+'.
  EXPECT_EQ(decoded("cdr=" + url_encode(doc)), doc);
  EXPECT_EQ(decoded("cdr=" + url_encode(doc, true)), doc);
  EXPECT_EQ(decoded("uuid=a_1&cdr=" + url_encode(doc) + "&x=1"), doc);
  // The sample's own %40 sequences survive: the form is decoded once.
  EXPECT_NE(decoded("cdr=" + url_encode(doc)).find("<sip_from_uri>1000%40192.168.6.32</sip_from_uri>"),
            std::string::npos);
  const Record r = normalize_xml(decoded("cdr=" + url_encode(doc, true)));
  ASSERT_TRUE(r.ok()) << r.result().error.message;
  EXPECT_EQ(r.str("caller_id_name"), "Jayson Vaughn");
}

TEST(XmlCdrBody, Base64FormField) {
  const std::string doc = read_sample(kDocs);
  EXPECT_EQ(decoded("cdr=" + base64_encode(doc)), doc);
  EXPECT_EQ(decoded("cdr=" + url_encode(base64_encode(doc))), doc);
}

TEST(XmlCdrBody, Refusals) {
  NormalizeError e = refused("");
  EXPECT_EQ(e.code, "empty_body");
  EXPECT_EQ(e.message, "the request body is empty");
  e = refused("cdr=");
  EXPECT_EQ(e.code, "empty_body");
  EXPECT_EQ(e.message, "form field cdr is empty");
  e = refused("cdr=hello+world");
  EXPECT_EQ(e.code, "bad_encoding");
  EXPECT_EQ(e.message, "form field cdr is neither url-encoded nor base64-encoded XML");
  e = refused("uuid=1&xml=%3Ccdr%2F%3E");
  EXPECT_EQ(e.code, "bad_encoding");
  EXPECT_EQ(e.message, "the body is a form without a cdr field");
  // Neither XML nor a form: the parser names the position.
  EXPECT_EQ(decoded("not xml at all"), "not xml at all");
}

// The derived addresses, by the rules in json_cdr_samples_test.cpp DerivedAddresses.
TEST(XmlCdrSamples, DerivedAddresses) {
  // tinycdr: no FreeSWITCH-IPv4, no sip_local_network_addr: local_media_ip "192.168.6.32"; no
  // sip_network_ip: sip_received_ip "192.168.6.32"; no local SDP: local_media_ip; switch_r_sdp
  // (URL-encoded) session "c=IN IP4 192.168.6.32".
  expect_addresses(normalize_xml(read_sample(kTiny)), {"192.168.6.32", "192.168.6.32", "192.168.6.32", "192.168.6.32"},
                   kTiny);
  // fsdocs: the page author masked every address as "XX.XX.XXX.XXX" (taken as it is: cdrd does not
  // judge addresses); sip_local_network_addr and sip_network_ip are set; no local SDP and no
  // local_media_ip: no local_rtp_ip; switch_r_sdp "c=IN IP4 XX.XX.XXX.XXX".
  expect_addresses(normalize_xml(read_sample(kDocs)), {"XX.XX.XXX.XXX", "XX.XX.XXX.XXX", "<absent>", "XX.XX.XXX.XXX"},
                   kDocs);
}

}  // namespace
}  // namespace cdrd::test
