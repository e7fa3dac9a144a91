import { render } from "preact";
import { App } from "./app.js";
import { connectApi } from "./client.js";

render(<App api={connectApi()} />, document.getElementById("app")!);
