import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseXmlRpcResponse, xmlRpcCall } from '../../../src/dns/providers/loopia-xmlrpc.ts';

// The request and response examples of the XML-RPC specification (https://xmlrpc.com/spec.md), and the
// shapes the Loopia API uses.

test('xml-rpc: a call of strings, an int and a struct, escaped', () => {
  assert.equal(
    xmlRpcCall('addZoneRecord', ['user@loopiaapi', 'p<&>', { type: 'TXT', ttl: 300, rdata: 'v' }]),
    '<?xml version="1.0" encoding="UTF-8"?>\n<methodCall><methodName>addZoneRecord</methodName><params>' +
      '<param><value><string>user@loopiaapi</string></value></param>' +
      '<param><value><string>p&lt;&amp;&gt;</string></value></param>' +
      '<param><value><struct><member><name>type</name><value><string>TXT</string></value></member>' +
      '<member><name>ttl</name><value><int>300</int></value></member>' +
      '<member><name>rdata</name><value><string>v</string></value></member></struct></value></param>' +
      '</params></methodCall>',
  );
});

test("xml-rpc: the specification's response and fault examples", () => {
  const ok = `<?xml version="1.0"?>
<methodResponse>
   <params>
      <param>
         <value><string>South Dakota</string></value>
         </param>
      </params>
   </methodResponse>`;
  assert.deepEqual(parseXmlRpcResponse(ok), { value: 'South Dakota' });
  const fault = `<?xml version="1.0"?>
<methodResponse>
   <fault>
      <value>
         <struct>
            <member>
               <name>faultCode</name>
               <value><int>4</int></value>
               </member>
            <member>
               <name>faultString</name>
               <value><string>Too many parameters.</string></value>
               </member>
            </struct>
         </value>
      </fault>
   </methodResponse>`;
  assert.deepEqual(parseXmlRpcResponse(fault), { fault: { code: 4, message: 'Too many parameters.' } });
});

test('xml-rpc: an array of structs, untyped strings, i4, boolean and nil', () => {
  const body =
    '<methodResponse><params><param><value><array><data>' +
    '<value><struct><member><name>type</name><value>TXT</value></member>' +
    '<member><name>ttl</name><value><i4>300</i4></value></member>' +
    '<member><name>record_id</name><value><int>12</int></value></member>' +
    '<member><name>x</name><value><boolean>1</boolean></value></member>' +
    '<member><name>y</name><value><nil/></value></member></struct></value>' +
    '</data></array></value></param></params></methodResponse>';
  assert.deepEqual(parseXmlRpcResponse(body), {
    value: [{ type: 'TXT', ttl: 300, record_id: 12, x: true, y: null }],
  });
  assert.throws(() => parseXmlRpcResponse('<html>nope</html>'), /not a methodResponse/);
});
