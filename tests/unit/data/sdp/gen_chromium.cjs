// Records Chromium's offers into the directory given as argument:
//   NODE_PATH=<dir with node_modules/playwright-core> node gen_chromium.cjs tests/unit/data/sdp
// Offers only (createOffer + setLocalDescription, trickle: no candidates in them), so
// no network namespace is needed.
const { chromium } = require('playwright-core');
const fs = require('fs');
(async () => {
  const dir = process.argv[2];
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection'] });
  const page = await browser.newPage();
  const offers = await page.evaluate(async () => {
    async function mk(kind) {
      const pc = new RTCPeerConnection({ iceServers: [] });
      pc.addTransceiver('video', { direction: 'recvonly' });
      if (kind === 'kvs') pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.createDataChannel('kvsDataChannel');
      const o = await pc.createOffer();
      await pc.setLocalDescription(o);
      const sdp = pc.localDescription.sdp;
      pc.close();
      return sdp;
    }
    return { dc: await mk('dc'), kvs: await mk('kvs'), ua: navigator.userAgent };
  });
  fs.writeFileSync(dir + '/chromium_recvonly_dc.sdp', offers.dc);
  fs.writeFileSync(dir + '/chromium_kvs_viewer.sdp', offers.kvs);
  console.log(offers.ua);
  await browser.close();
})().catch(e => { console.error(e); process.exit(1); });
