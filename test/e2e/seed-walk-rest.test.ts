import { aws4Fetch } from "../helpers/aws4-fetch.js";
import { signedFetch } from "../helpers/signed-fetch.js";
import { describeSeedWalk } from "./seed-walk-rest-suite.js";

// Every request example of the seed sent verbatim over REST, signed by two
// independent signers from npm (AWS's own JavaScript signer and aws4); the same
// walk with the real curl's --aws-sigv4 is in test/interop/.

describeSeedWalk("@smithy/signature-v4", signedFetch);
describeSeedWalk("aws4", aws4Fetch);
