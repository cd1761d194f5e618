import { describeSeedWalk } from "../e2e/seed-walk-rest-suite.js";
import { curlFetch } from "../helpers/curl-fetch.js";

// The seed walk of test/e2e/seed-walk-rest.test.ts, signed by the real curl's
// --aws-sigv4 (a system tool: curl 7.75 or newer).

describeSeedWalk("curl --aws-sigv4", curlFetch);
