// Must be imported before any generated code: without Long, protobufjs decodes 64-bit integers to
// plain numbers (exact below 2^53, which covers timestamps and sequence numbers).
import $protobuf from 'protobufjs/minimal.js';

$protobuf.util.Long = undefined as unknown as typeof $protobuf.util.Long;
$protobuf.configure();
