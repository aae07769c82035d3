// The logout route handler from Crossmint's guide, unchanged but for the import.
import { createCrossmint, CrossmintAuth } from "crossmint-server-native";
import type { NextRequest } from "next/server";

const crossmint = createCrossmint({
    apiKey: process.env.SERVER_CROSSMINT_API_KEY || "",
});
const crossmintAuth = CrossmintAuth.from(crossmint);

export async function POST(request: NextRequest) {
    return await crossmintAuth.logout(request);
}
