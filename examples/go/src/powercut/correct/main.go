// correct: the whole-file store that fsyncs the temp file, renames it and fsyncs the
// directory. Speaks powercut's exec protocol; every acked write is durable.
package main

import (
	"powercut/filestore"
	"powercut/kvproto"
)

func main() { kvproto.Serve(&filestore.Store{Durable: true}) }
