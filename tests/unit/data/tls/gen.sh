#!/bin/sh
# Regenerates the test certificates used by test_tls and test_net (run once; the
# outputs are committed). ECDSA P-256, valid for 100 years.
#   ca.pem               test CA (CA:TRUE)
#   server.pem/.key      leaf signed by the CA: DNS:localhost, IP:127.0.0.1, IP:::1
#   wrong.pem/.key       self-signed leaf for DNS:wrong.invalid only (untrusted / mismatch)
#   client.pem/.key      client leaf signed by the CA (clientAuth), for mutual TLS
set -e
cd "$(dirname "$0")"
days=36500
openssl ecparam -name prime256v1 -genkey -noout -out ca.key
openssl req -x509 -new -key ca.key -sha256 -days $days -subj "/CN=camrtc test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca.pem
openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out server.key
openssl req -new -key server.key -subj "/CN=localhost" -out server.csr
cat > server.ext <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
EXT
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days $days \
  -extfile server.ext -out server.pem
openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out wrong.key
openssl req -x509 -new -key wrong.key -sha256 -days $days -subj "/CN=wrong.invalid" \
  -addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature" \
  -addext "extendedKeyUsage=serverAuth" -addext "subjectAltName=DNS:wrong.invalid" -out wrong.pem
openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out client.key
openssl req -new -key client.key -subj "/CN=camrtc-test-thing" -out client.csr
cat > client.ext <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
EXT
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days $days \
  -extfile client.ext -out client.pem
rm -f server.csr server.ext client.csr client.ext ca.srl
