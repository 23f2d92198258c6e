package store

// Classify is classify, for the tests of store_test.
var Classify = classify
