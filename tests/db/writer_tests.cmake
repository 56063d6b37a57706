# The row codec needs nothing but itself; the BatchWriter test needs a real
# PostgreSQL (tests/support) and the spool.
add_executable(cdr_row_test ${CMAKE_CURRENT_LIST_DIR}/cdr_row_test.cpp)
target_link_libraries(cdr_row_test PRIVATE cdrd_cdr_row GTest::gtest_main)
gtest_discover_tests(cdr_row_test PROPERTIES LABELS "unit" DISCOVERY_MODE PRE_TEST)

add_executable(batch_writer_pgtest ${CMAKE_CURRENT_LIST_DIR}/batch_writer_pgtest.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pg_binary_copy_pgtest.cpp)
target_link_libraries(batch_writer_pgtest PRIVATE cdrd_test_support cdrd_db GTest::gtest_main)
gtest_discover_tests(batch_writer_pgtest PROPERTIES LABELS "pg" ${CDRD_PG_FIXTURE} DISCOVERY_MODE PRE_TEST)

# Poison rows, retried errors (a TCP proxy that loses a COMMIT reply) and
# partitions/retention, against a real PostgreSQL; the error classifier
# alone.
add_executable(db_error_class_test ${CMAKE_CURRENT_LIST_DIR}/db_error_class_test.cpp)
target_link_libraries(db_error_class_test PRIVATE cdrd_db GTest::gtest_main)
gtest_discover_tests(db_error_class_test PROPERTIES LABELS "unit" DISCOVERY_MODE PRE_TEST)
# The binary COPY encoder, byte by byte (its round trip is in batch_writer_pgtest).
add_executable(pg_binary_copy_test ${CMAKE_CURRENT_LIST_DIR}/pg_binary_copy_test.cpp)
target_link_libraries(pg_binary_copy_test PRIVATE cdrd_db GTest::gtest_main)
gtest_discover_tests(pg_binary_copy_test PROPERTIES LABELS "unit" DISCOVERY_MODE PRE_TEST)
foreach(test_name writer_faults_pgtest writer_partitions_pgtest)
  add_executable(${test_name} ${CMAKE_CURRENT_LIST_DIR}/${test_name}.cpp)
  target_link_libraries(${test_name} PRIVATE cdrd_test_support cdrd_db GTest::gtest_main)
  gtest_discover_tests(${test_name} PROPERTIES LABELS "pg" ${CDRD_PG_FIXTURE} TIMEOUT 300 DISCOVERY_MODE PRE_TEST)
endforeach()

# Call assembly (daemon/db/call_store.h): legs made by the real normalizers,
# every arrival order of a three-hop chain.
add_executable(call_assembly_pgtest ${CMAKE_CURRENT_LIST_DIR}/call_assembly_pgtest.cpp)
target_link_libraries(call_assembly_pgtest PRIVATE cdrd_test_support cdrd_db cdrd_adapters GTest::gtest_main)
gtest_discover_tests(call_assembly_pgtest PROPERTIES LABELS "pg" ${CDRD_PG_FIXTURE} TIMEOUT 300 DISCOVERY_MODE PRE_TEST)

# Rating in the writer: decks and assignments in the database, hand-computed prices.
add_executable(writer_rating_pgtest ${CMAKE_CURRENT_LIST_DIR}/writer_rating_pgtest.cpp)
target_link_libraries(writer_rating_pgtest PRIVATE cdrd_test_support cdrd_db GTest::gtest_main)
gtest_discover_tests(writer_rating_pgtest PROPERTIES LABELS "pg" ${CDRD_PG_FIXTURE} DISCOVERY_MODE PRE_TEST)

# The writer's split of a batch between its connections (no database).
add_executable(writer_shares_test ${CMAKE_CURRENT_LIST_DIR}/writer_shares_test.cpp)
target_link_libraries(writer_shares_test PRIVATE cdrd_db GTest::gtest_main)
gtest_discover_tests(writer_shares_test PROPERTIES LABELS "unit" DISCOVERY_MODE PRE_TEST)
