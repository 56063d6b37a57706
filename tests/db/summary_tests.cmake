# PostgreSQL test of the billing summary query (label "pg"). Included by
# tests/db/CMakeLists.txt.
add_executable(cdr_summary_pgtest ${CMAKE_CURRENT_LIST_DIR}/cdr_summary_pgtest.cpp)
target_link_libraries(cdr_summary_pgtest PRIVATE cdrd_test_support cdrd_api cdrd_db GTest::gtest_main)
gtest_discover_tests(cdr_summary_pgtest PROPERTIES LABELS "pg" ${CDRD_PG_FIXTURE} TIMEOUT 300 DISCOVERY_MODE PRE_TEST)
