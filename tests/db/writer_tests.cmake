# The row codec needs nothing but itself; the BatchWriter test needs a real
# PostgreSQL (tests/support) and the spool.
add_executable(cdr_row_test ${CMAKE_CURRENT_LIST_DIR}/cdr_row_test.cpp)
target_link_libraries(cdr_row_test PRIVATE cdrd_cdr_row GTest::gtest_main)
gtest_discover_tests(cdr_row_test PROPERTIES LABELS "unit" DISCOVERY_MODE PRE_TEST)

add_executable(batch_writer_pgtest ${CMAKE_CURRENT_LIST_DIR}/batch_writer_pgtest.cpp)
target_link_libraries(batch_writer_pgtest PRIVATE cdrd_test_support cdrd_db GTest::gtest_main)
gtest_discover_tests(batch_writer_pgtest PROPERTIES LABELS "pg" DISCOVERY_MODE PRE_TEST)
