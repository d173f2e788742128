// The chatrooms view: ChatroomService over REST. List the rooms of an app,
// create one, open one: its details, members, admins, mutes, allowlist,
// blocklist, announcement and attributes, each with what changes it. Every
// error shows as the API returned it, next to what caused it.
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ChatroomAnnouncementSchema, ChatroomMemberRole, ChatroomMuteSchema, ChatroomSchema, type Chatroom } from "../../gen/ts/imbridge/v1/chatroom_pb";
import {
  AddChatroomAdminResponseSchema,
  AddChatroomAllowlistMemberResponseSchema,
  AddChatroomBlocklistMemberResponseSchema,
  AddChatroomMemberResponseSchema,
  DeleteChatroomAttributesResponseSchema,
  DeleteChatroomResponseSchema,
  GetChatroomAttributesResponseSchema,
  ListChatroomAdminsResponseSchema,
  ListChatroomAllowlistResponseSchema,
  ListChatroomBlocklistResponseSchema,
  ListChatroomMembersResponseSchema,
  ListChatroomMutesResponseSchema,
  ListChatroomsResponseSchema,
  RemoveChatroomAdminResponseSchema,
  RemoveChatroomAllowlistMemberResponseSchema,
  RemoveChatroomBlocklistMemberResponseSchema,
  RemoveChatroomMemberResponseSchema,
  SetChatroomAttributesResponseSchema,
  UnmuteChatroomMemberResponseSchema,
} from "../../gen/ts/imbridge/v1/chatroom_service_pb";
import { call, parentOf, query } from "./api";
import { errorBox, field, fill, h, input, time, words } from "./dom";

type Item = { key: string; label: string };

// A section of an open room: a list, and forms that change it.
interface Section {
  id: string;
  title: string;
  load(): Promise<Item[]>;
  // The add form: its inputs, and what it does with their values.
  // keep is how many of the inputs keep their value after a change (the
  // user that attributes are set as, also needed to delete them).
  add?: { button: string; inputs: HTMLInputElement[]; keep?: number; run(values: string[]): Promise<string | void> };
  remove?: { button: string; run(key: string): Promise<unknown> };
}

const seg = encodeURIComponent;

export class ChatroomsView {
  readonly el: HTMLElement;
  private readonly app = input("rooms-app", "org#app");
  private readonly errors = h("div", { id: "rooms-error" });
  private readonly list = h("tbody", { id: "rooms-rows" });
  private readonly pager = h("div", { class: "pager" });
  private readonly room = h("div", { id: "room", class: "panel" }, h("p", { class: "muted" }, "Create a room, or open one from the list."));
  private readonly create = {
    displayName: input("create-name", "display name"),
    description: input("create-description", "description"),
    owner: input("create-owner", "owner username"),
    members: input("create-members", "members (optional)"),
    maxUsers: input("create-max-users", "max users (optional)"),
  };
  private readonly createErrors = h("div", { id: "create-error" });
  private tokens: string[] = [""];
  // The app the pages are of, as the form read it at List: paging keeps it.
  private listed = "";

  constructor(private readonly appHint: () => string) {
    const c = this.create;
    this.el = h(
      "section",
      { id: "view-chatrooms", class: "view" },
      h(
        "form",
        {
          class: "toolbar",
          id: "rooms-list-form",
          onsubmit: (e: globalThis.Event) => {
            e.preventDefault();
            this.listRooms();
          },
        },
        field("app", this.app),
        h("button", { type: "submit", id: "rooms-list" }, "List rooms"),
      ),
      this.errors,
      h(
        "div",
        { class: "split" },
        h(
          "div",
          { class: "list" },
          h(
            "table",
            { class: "rooms" },
            h("thead", {}, h("tr", {}, h("th", {}, "id"), h("th", {}, "name"), h("th", {}, "owner"), h("th", {}, "members"))),
            this.list,
          ),
          this.pager,
          h(
            "form",
            {
              class: "create",
              id: "create-form",
              onsubmit: (e: globalThis.Event) => {
                e.preventDefault();
                void this.createRoom();
              },
            },
            h("h3", {}, "Create a chatroom"),
            field("name", c.displayName),
            field("description", c.description),
            field("owner", c.owner),
            field("members", c.members),
            field("max users", c.maxUsers),
            h("button", { type: "submit", id: "create-button" }, "Create"),
            this.createErrors,
          ),
        ),
        this.room,
      ),
    );
  }

  show(): void {
    if (!this.app.value) this.app.value = this.appHint();
  }

  private parent(): string {
    return parentOf(this.app.value);
  }

  // listRooms reads the first page of the form's app.
  private listRooms(): void {
    this.listed = this.parent();
    this.tokens = [""];
    void this.load(0);
  }

  private async load(page: number): Promise<void> {
    fill(this.errors);
    if (!this.listed) this.listed = this.parent();
    try {
      const res = await call(ListChatroomsResponseSchema, "GET", `/v1/${this.listed}/chatrooms${query({ pageSize: 20, pageToken: this.tokens[page] })}`);
      this.tokens = this.tokens.slice(0, page + 1);
      if (res.nextPageToken) this.tokens.push(res.nextPageToken);
      fill(
        this.list,
        ...res.chatrooms.map((r) => {
          const id = r.name.split("/").pop() ?? r.name;
          return h(
            "tr",
            { "data-room": r.name, tabindex: 0, onclick: () => void this.open(r.name) },
            h("td", { class: "num" }, id),
            h("td", {}, r.displayName),
            h("td", {}, r.owner),
            h("td", { class: "num" }, String(r.memberCount)),
          );
        }),
      );
      if (res.chatrooms.length === 0) fill(this.list, h("tr", {}, h("td", { colspan: 4, class: "muted" }, "No chatroom.")));
      fill(
        this.pager,
        h("button", { type: "button", disabled: page === 0, onclick: () => void this.load(page - 1) }, "‹ Previous"),
        h("span", {}, `page ${page + 1}`),
        h("button", { type: "button", id: "rooms-next", disabled: !res.nextPageToken, onclick: () => void this.load(page + 1) }, "Next ›"),
      );
    } catch (err) {
      fill(this.errors, errorBox(err));
    }
  }

  private async createRoom(): Promise<void> {
    const c = this.create;
    fill(this.createErrors);
    const body: Record<string, unknown> = {
      displayName: c.displayName.value,
      description: c.description.value,
      owner: c.owner.value.trim(),
    };
    const members = words(c.members.value);
    if (members.length > 0) body.members = members;
    if (c.maxUsers.value.trim()) body.maxUsers = Number(c.maxUsers.value.trim());
    try {
      // CreateChatroom answers the room itself over REST (its response_body).
      const room = await call(ChatroomSchema, "POST", `/v1/${this.parent()}/chatrooms`, body);
      this.listRooms();
      await this.open(room.name);
    } catch (err) {
      fill(this.createErrors, errorBox(err));
    }
  }

  // open shows a room and every list of it.
  async open(name: string): Promise<void> {
    fill(this.room, h("p", { class: "muted" }, `${name}…`));
    let room: Chatroom;
    try {
      room = await call(ChatroomSchema, "GET", `/v1/${name}`);
    } catch (err) {
      fill(this.room, h("h3", {}, name), errorBox(err));
      return;
    }
    const id = name.split("/").pop() ?? name;
    const info: [string, string][] = [
      ["name", room.displayName],
      ["description", room.description],
      ["owner", room.owner],
      ["members", String(room.memberCount)],
      ["max users", String(room.maxUsers)],
      ["mute all", room.muteAll ? "yes" : "no"],
      ["created", room.createTime ? time(timestampDate(room.createTime)) : ""],
    ];
    const dl = h("dl", { class: "fields" });
    for (const [k, v] of info) if (v) dl.append(h("dt", {}, k), h("dd", {}, v));
    const deleteErrors = h("div");
    const del = h("button", { type: "button", id: "room-delete", class: "danger" }, "Delete room");
    del.addEventListener("click", async () => {
      if (del.dataset.armed !== "yes") {
        del.dataset.armed = "yes";
        del.textContent = "Really delete? Click again";
        return;
      }
      try {
        await call(DeleteChatroomResponseSchema, "DELETE", `/v1/${name}`);
        fill(this.room, h("p", { class: "muted" }, `Deleted ${name}.`));
        void this.load(0);
      } catch (err) {
        fill(deleteErrors, errorBox(err));
      }
    });
    fill(
      this.room,
      h("h3", { id: "room-title", "data-room": name }, `${room.displayName} · ${id}`),
      dl,
      h("div", { class: "sections" }, ...this.sections(name).map((s) => this.section(s)), this.announcement(name), this.attributes(name)),
      h("div", { class: "toolbar" }, del),
      deleteErrors,
    );
  }

  // The lists of a room that are usernames with add and remove.
  private sections(name: string): Section[] {
    const userList = <L extends DescMessage>(
      id: string,
      title: string,
      path: string,
      list: L,
      usernames: (res: MessageShape<L>) => string[],
      added: DescMessage,
      removed: DescMessage,
    ): Section => ({
      id,
      title,
      load: async () => usernames(await call(list, "GET", `/v1/${name}/${path}`)).map((u) => ({ key: u, label: u })),
      add: {
        button: "Add",
        inputs: [input(`${id}-add`, "username")],
        run: async ([u]) => {
          await call(added, "POST", `/v1/${name}/${path}`, { username: u });
        },
      },
      remove: { button: "Remove", run: (u) => call(removed, "DELETE", `/v1/${name}/${path}/${seg(u)}`) },
    });
    return [
      {
        id: "room-members",
        title: "Members",
        load: async () => {
          const res = await call(ListChatroomMembersResponseSchema, "GET", `/v1/${name}/members`);
          return res.members.map((m) => ({
            key: m.username,
            label: m.role === ChatroomMemberRole.OWNER ? `${m.username} (owner)` : m.username,
          }));
        },
        add: {
          button: "Add",
          inputs: [input("room-members-add", "username")],
          run: async ([u]) => {
            await call(AddChatroomMemberResponseSchema, "POST", `/v1/${name}/members`, { username: u });
          },
        },
        remove: { button: "Remove", run: (u) => call(RemoveChatroomMemberResponseSchema, "DELETE", `/v1/${name}/members/${seg(u)}`) },
      },
      userList(
        "room-admins",
        "Admins",
        "admins",
        ListChatroomAdminsResponseSchema,
        (res) => res.usernames,
        AddChatroomAdminResponseSchema,
        RemoveChatroomAdminResponseSchema,
      ),
      {
        id: "room-mutes",
        title: "Mutes",
        load: async () => {
          const res = await call(ListChatroomMutesResponseSchema, "GET", `/v1/${name}/mutes`);
          return res.mutes.map((m) => {
            const until = m.expireTime ? timestampDate(m.expireTime) : undefined;
            // The vendor writes a permanent mute as a far future.
            const label = !until || until.getFullYear() > 9000 ? `${m.username} (permanent)` : `${m.username} (until ${time(until)})`;
            return { key: m.username, label };
          });
        },
        add: {
          button: "Mute",
          inputs: [input("room-mutes-add", "username"), input("room-mutes-seconds", "seconds (empty: permanent)")],
          run: async ([u, secs]) => {
            const body: Record<string, unknown> = { username: u };
            if (secs) body.duration = `${Number(secs)}s`;
            else body.permanent = true;
            // MuteChatroomMember answers the mute itself over REST.
            await call(ChatroomMuteSchema, "POST", `/v1/${name}/mutes`, body);
          },
        },
        remove: { button: "Unmute", run: (u) => call(UnmuteChatroomMemberResponseSchema, "DELETE", `/v1/${name}/mutes/${seg(u)}`) },
      },
      userList(
        "room-allowlist",
        "Allowlist",
        "allowlist",
        ListChatroomAllowlistResponseSchema,
        (res) => res.usernames,
        AddChatroomAllowlistMemberResponseSchema,
        RemoveChatroomAllowlistMemberResponseSchema,
      ),
      userList(
        "room-blocklist",
        "Blocklist",
        "blocklist",
        ListChatroomBlocklistResponseSchema,
        (res) => res.usernames,
        AddChatroomBlocklistMemberResponseSchema,
        RemoveChatroomBlocklistMemberResponseSchema,
      ),
    ];
  }

  // section renders a Section, loads its list, and reloads it after every
  // change.
  private section(s: Section): HTMLElement {
    const items = h("ul", { class: "items", id: `${s.id}-list` });
    const errors = h("div", { id: `${s.id}-error` });
    const note = h("div", { class: "muted" });
    const reload = async () => {
      try {
        const list = await s.load();
        fill(
          items,
          ...list.map((it) =>
            h(
              "li",
              { "data-key": it.key },
              h("span", {}, it.label),
              s.remove &&
                h(
                  "button",
                  {
                    type: "button",
                    class: "small",
                    onclick: async () => {
                      fill(errors);
                      try {
                        await s.remove?.run(it.key);
                      } catch (err) {
                        fill(errors, errorBox(err));
                      }
                      await reload();
                    },
                  },
                  s.remove.button,
                ),
            ),
          ),
        );
        if (list.length === 0) fill(items, h("li", { class: "muted" }, "none"));
      } catch (err) {
        fill(items);
        fill(errors, errorBox(err));
      }
    };
    const add = s.add;
    const form =
      add &&
      h(
        "form",
        {
          class: "inline",
          id: `${s.id}-form`,
          onsubmit: async (e: globalThis.Event) => {
            e.preventDefault();
            fill(errors);
            fill(note);
            try {
              const msg = await add.run(add.inputs.map((i) => i.value.trim()));
              if (msg) fill(note, msg);
              add.inputs.slice(add.keep ?? 0).forEach((i) => (i.value = ""));
            } catch (err) {
              fill(errors, errorBox(err));
            }
            await reload();
          },
        },
        ...add.inputs,
        h("button", { type: "submit", id: `${s.id}-submit` }, add.button),
      );
    void reload();
    return h("div", { class: "section", id: s.id }, h("h4", {}, s.title), items, form, note, errors);
  }

  private announcement(name: string): HTMLElement {
    const text = h("textarea", { id: "room-announcement-text", rows: 3, placeholder: "announcement" });
    const errors = h("div", { id: "room-announcement-error" });
    const path = `/v1/${name}/announcement`;
    void (async () => {
      try {
        text.value = (await call(ChatroomAnnouncementSchema, "GET", path)).text;
      } catch (err) {
        fill(errors, errorBox(err));
      }
    })();
    return h(
      "form",
      {
        class: "section",
        id: "room-announcement",
        onsubmit: async (e: globalThis.Event) => {
          e.preventDefault();
          fill(errors);
          try {
            text.value = (await call(ChatroomAnnouncementSchema, "PATCH", path, { text: text.value })).text;
            fill(errors, h("div", { class: "muted" }, "saved"));
          } catch (err) {
            fill(errors, errorBox(err));
          }
        },
      },
      h("h4", {}, "Announcement"),
      text,
      h("button", { type: "submit", id: "room-announcement-save" }, "Save"),
      errors,
    );
  }

  // Attributes are set and deleted on behalf of a user, who owns them.
  private attributes(name: string): HTMLElement {
    const failed = (keys: { [k: string]: string }) =>
      Object.entries(keys)
        .map(([k, why]) => `${k}: ${why}`)
        .join("; ");
    return this.section({
      id: "room-attributes",
      title: "Attributes",
      load: async () => {
        const res = await call(GetChatroomAttributesResponseSchema, "GET", `/v1/${name}/attributes`);
        return Object.entries(res.attributes)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => ({ key: k, label: `${k} = ${v}` }));
      },
      add: {
        button: "Set",
        inputs: [input("room-attributes-user", "as username"), input("room-attributes-key", "key"), input("room-attributes-value", "value")],
        keep: 1,
        run: async ([username, key, value]) => {
          const res = await call(SetChatroomAttributesResponseSchema, "POST", `/v1/${name}/attributes:set`, {
            username,
            attributes: { [key ?? ""]: value ?? "" },
          });
          const f = failed(res.failedKeys);
          return f ? `not set: ${f}` : undefined;
        },
      },
      remove: {
        button: "Delete",
        run: async (key) => {
          const owner = (document.getElementById("room-attributes-user") as HTMLInputElement | null)?.value.trim() ?? "";
          const res = await call(DeleteChatroomAttributesResponseSchema, "POST", `/v1/${name}/attributes:delete`, { username: owner, keys: [key] });
          const f = failed(res.failedKeys);
          if (f) throw new Error(`not deleted: ${f}`);
        },
      },
    });
  }
}
